"""Object storage: one interface (`store`), a backend per module (`local`, `s3`), locations
(`location`) and the factory that picks a backend (`factory`). Used by backup and by the
broker's remote log tier; imports nothing from Connect or the broker."""
