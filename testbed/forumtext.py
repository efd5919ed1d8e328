"""Forum post templates in English, French, Spanish, German and Dutch, by kind of post.

Kinds: advert (vendor selling), question and review (buyers), harm (harm-reduction talk, not trade),
offtopic (no drug trade at all; some use words like 'snow', 'crystal' or 'Molly' innocently on purpose).
Slots: {name} product name, {slang}, {qty}, {price}, {country}, {market}, {handle}, {other}, {days}, {score}.
"""

from __future__ import annotations

ADVERT = {
    "en": ("[WTS] {name} {qty} for {price}. Ships from {country}. Find us on {market} as {handle}.",
           "Restock! Fresh {name}, {qty} tiers available. Same stealth as always. {market}: {handle}",
           "New batch of {slang} just landed. {qty} from {price}. PM for bulk. Shop: {handle} on {market}",
           "Back in business. {name} at {price} per {qty}, escrow on {market} ({handle})."),
    "fr": ("[VENTE] {name} {qty} à {price}. Envoi depuis {country}. Boutique sur {market}: {handle}",
           "Nouveau stock de {slang}, {qty} à partir de {price}. Envoi discret. {market} / {handle}"),
    "es": ("[VENDO] {name} {qty} por {price}. Envío desde {country}. Tienda en {market}: {handle}",
           "Nuevo lote de {slang}, {qty} desde {price}. Escríbeme en {market} ({handle})"),
    "de": ("[VERKAUFE] {name} {qty} für {price}. Versand aus {country}. Shop auf {market}: {handle}",
           "Neue Charge {slang} ist da, {qty} ab {price}. Bestellung über {market} ({handle})"),
    "nl": ("[TE KOOP] {name} {qty} voor {price}. Verzending vanuit {country}. Shop op {market}: {handle}",
           "Nieuwe batch {slang} binnen, {qty} vanaf {price}. Bestel via {market} ({handle})"),
}
QUESTION = {
    "en": ("Do you ship {name} to {country}?", "Any lab results for the {slang}?", "Is the {name} still in stock? Want {qty}.",
           "How long does shipping to {country} usually take?"),
    "fr": ("Tu livres en {country}?", "Des résultats de test pour la {slang}?", "Encore du stock de {name}?"),
    "es": ("¿Envías a {country}?", "¿Hay pruebas de laboratorio del {slang}?", "¿Todavía tienes {name}?"),
    "de": ("Versendest du nach {country}?", "Gibt es Laborergebnisse zum {slang}?", "Hast du noch {name} da?"),
    "nl": ("Verzend je naar {country}?", "Zijn er labresultaten van de {slang}?", "Nog {name} op voorraad?"),
}
REVIEW = {
    "en": ("Review of {handle}: ordered {qty} {name}, arrived in {days} days. Stealth {score}/10, quality solid.",
           "Got my {slang} from {handle} yesterday. Legit vendor, would buy again.",
           "Warning: {handle} sent short weight on {name}. Support fixed it after 3 days though.",
           "Second order from {handle}, the {name} is even better than last time. {days} days to {country}."),
    "fr": ("Avis sur {handle}: commandé {qty} de {name}, reçu en {days} jours. Stealth {score}/10.",
           "Reçu ma {slang} de chez {handle}, vendeur sérieux."),
    "es": ("Reseña de {handle}: pedí {qty} de {name}, llegó en {days} días. Stealth {score}/10.",
           "Recibí el {slang} de {handle}, vendedor legal."),
    "de": ("Review zu {handle}: {qty} {name} bestellt, nach {days} Tagen da. Stealth {score}/10.",
           "Mein {slang} von {handle} ist angekommen, seriöser Verkäufer."),
    "nl": ("Review van {handle}: {qty} {name} besteld, na {days} dagen binnen. Stealth {score}/10.",
           "Mijn {slang} van {handle} is binnen, betrouwbare verkoper."),
}
HARM = {
    "en": ("First time trying {name}, what is a sensible dose?", "Never mix {name} with {other}. Seriously, people end up in hospital.",
           "Start low, go slow. Wait at least two hours before redosing {slang}.",
           "Test your {name} with a reagent kit, and use fentanyl test strips for anything opioid.",
           "Stay hydrated but don't drink litres of water on {slang}. Take breaks from dancing.",
           "If a friend passes out after {name}, put them in the recovery position and call emergency services."),
    "fr": ("Première fois avec la {name}, quel dosage?", "Ne mélangez jamais {name} et {other}, c'est dangereux.",
           "Testez votre {slang} avec un kit de réactifs."),
    "es": ("Primera vez con {name}, ¿qué dosis es segura?", "Nunca mezcles {name} con {other}, es peligroso.",
           "Analiza tu {slang} con un kit de reactivos."),
    "de": ("Zum ersten Mal {name}, welche Dosis ist sinnvoll?", "Niemals {name} mit {other} mischen, das ist gefährlich.",
           "Testet euer {slang} mit einem Reagenzientest."),
    "nl": ("Eerste keer {name}, wat is een veilige dosis?", "Combineer nooit {name} met {other}, dat is gevaarlijk.",
           "Test je {slang} altijd bij een testservice."),
}
OFFTOPIC = {
    "en": ("Anyone watching the match tonight?", "Best VPN for Linux these days?", "What music are you all listening to this week?",
           "So much snow here today, can't even leave the house.", "My cat knocked my coffee over the keyboard again.",
           "Tails or Whonix for daily use? Thoughts?", "These new headphones have crystal clear sound.",
           "Happy birthday to my sister Molly!", "Charlie from work keeps stealing my lunch lol.",
           "Ice on the roads this morning, drive safe everyone.", "Recommend me a good sci-fi book.",
           "Finally fixed my bike, going for a ride in the valley."),
    "fr": ("Quelqu'un regarde le match ce soir?", "Quel VPN utilisez-vous?", "Il neige encore ici, incroyable.",
           "Des recommandations de séries?"),
    "es": ("¿Alguien ve el partido esta noche?", "¿Qué VPN usáis?", "Hoy hace un calor increíble en Sevilla.",
           "¿Recomendáis alguna serie?"),
    "de": ("Schaut jemand heute das Spiel?", "Welches VPN nutzt ihr?", "Hier schneit es schon wieder.",
           "Gute Serienempfehlungen?"),
    "nl": ("Kijkt er iemand naar de wedstrijd vanavond?", "Welke VPN gebruiken jullie?", "Wat een regen vandaag weer.",
           "Tips voor een goede serie?"),
}
REPLY_OFFTOPIC = {
    "en": ("Same here honestly.", "lol this", "Agreed, good call.", "No idea mate, sorry.", "Thanks, will check it out."),
    "fr": ("Pareil ici.", "Merci pour l'info!", "Aucune idée, désolé."),
    "es": ("Lo mismo aquí.", "Gracias por la info!", "Ni idea, lo siento."),
    "de": ("Geht mir genauso.", "Danke für den Tipp!", "Keine Ahnung, sorry."),
    "nl": ("Hier precies hetzelfde.", "Bedankt voor de tip!", "Geen idee, sorry."),
}
THREAD_TITLES = {
    "advert": {"en": "[WTS] {name} - {handle}", "fr": "[VENTE] {name} - {handle}", "es": "[VENDO] {name} - {handle}",
               "de": "[VERKAUFE] {name} - {handle}", "nl": "[TE KOOP] {name} - {handle}"},
    "review": {"en": "Review: {handle} ({name})", "fr": "Avis: {handle} ({name})", "es": "Reseña: {handle} ({name})",
               "de": "Review: {handle} ({name})", "nl": "Review: {handle} ({name})"},
    "harm": {"en": "{name}: safety questions", "fr": "{name}: questions sécurité", "es": "{name}: dudas de seguridad",
             "de": "{name}: Fragen zur Sicherheit", "nl": "{name}: veiligheidsvragen"},
}
