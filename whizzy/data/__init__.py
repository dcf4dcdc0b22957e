"""Salesforce data in: the synthetic org generator, the CSV importer and the CSV exporter."""
