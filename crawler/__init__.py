"""Scrapy settings, generic spiders, page objects, middlewares and pipelines."""
