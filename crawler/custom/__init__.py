"""Page objects for sites too odd for selectors, registered by name with `crawler.pages.register`."""
