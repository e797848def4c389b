//! Conformance suite shared by every otrp crypto backend.
