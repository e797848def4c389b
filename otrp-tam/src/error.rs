//! The service's errors.

/// Why an operation of the service failed. An operation that fails changes
/// nothing in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operator's input was refused (unknown TA, malformed policy, an
    /// image that does not verify, ...).
    #[error("{0}")]
    Input(String),
    /// The database could not be reached or answered with an error.
    #[error("database: {0}")]
    Database(String),
    /// The database schema is not one this version can use.
    #[error("database schema: {0}")]
    Schema(String),
    /// Another front end changed the same record first (the conditional
    /// save on the revision failed): reload and retry.
    #[error("conflict: another front end changed {0} first")]
    Conflict(String),
    /// The audit log does not verify.
    #[error("audit log tampered with: {0}")]
    Tampered(String),
}

impl Error {
    /// An operator input error.
    pub fn input(message: impl Into<String>) -> Self {
        Error::Input(message.into())
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            // SQLite "database is locked/busy" and PostgreSQL serialization
            // failures or unique violations from a concurrent writer: the
            // other writer won; the step is retried.
            let code = db.code().map(|c| c.to_string()).unwrap_or_default();
            if matches!(
                code.as_str(),
                "5" | "6" | "517" | "40001" | "40P01" | "23505"
            ) || matches!(db.kind(), sqlx::error::ErrorKind::UniqueViolation)
            {
                return Error::Conflict(format!("the database ({})", db.message()));
            }
        }
        Error::Database(e.to_string())
    }
}

/// A result of the service.
pub type Result<T> = std::result::Result<T, Error>;
