"""Built-in Connect connectors, one package each (file, objectstore, ...)."""
