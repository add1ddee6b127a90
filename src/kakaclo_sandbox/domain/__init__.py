"""The refund rules on plain data: no SQL, no HTTP. Storage reads and writes what they decide."""
