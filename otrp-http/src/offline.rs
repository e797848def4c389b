//! The TAM server's request handling without sockets: a connection is an
//! in-memory byte stream. The same code as a [`TamServer`](crate::TamServer)
//! connection (hyper's parser, the security headers on every response
//! head, sessions, cookies, limits) minus the accept loop and TLS, so that
//! a fuzz target or a test can feed raw HTTP request bytes and read back
//! exactly what the server wrote (issue 13).

use std::net::SocketAddr;
use std::sync::Arc;

use otrp_core::tam::Tam;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::secure_io::SecureHeaders;
use crate::server::{ServerConfig, ServerError, Shared, TamApp, serve_connection};

/// Room for bytes in flight each way on an in-memory connection.
const PIPE_BYTES: usize = 64 * 1024;

/// A TAM server whose connections are byte strings: sessions and their
/// table persist from one [`connection`](OfflineServer::connection) to the
/// next, as on a [`TamServer`](crate::TamServer). `config.tls` is ignored
/// (plain HTTP/1.1).
pub struct OfflineServer<A: TamApp> {
    shared: Arc<Shared<A>>,
    runtime: tokio::runtime::Runtime,
}

impl<A: TamApp> std::fmt::Debug for OfflineServer<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfflineServer").finish_non_exhaustive()
    }
}

impl<A: TamApp> OfflineServer<A> {
    /// A server of `tam` with `app` deciding each session's steps, checked
    /// like [`TamServer::start`](crate::TamServer::start).
    pub fn new(tam: Arc<Tam>, app: Arc<A>, config: ServerConfig) -> Result<Self, ServerError> {
        let shared = Shared::new(tam, app, config, None)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(OfflineServer { shared, runtime })
    }

    /// Serves one connection from `peer` on which the client sends `input`
    /// and then closes its side; returns every byte the server wrote, in
    /// order, once the server closed the connection.
    pub fn connection(&self, peer: SocketAddr, input: &[u8]) -> Vec<u8> {
        let (mut client, server) = tokio::io::duplex(PIPE_BYTES);
        let shared = self.shared.clone();
        self.runtime.block_on(async move {
            let serving = tokio::spawn(serve_connection(
                shared,
                SecureHeaders::new(server),
                peer,
                true,
            ));
            let (mut read, mut write) = tokio::io::split(&mut client);
            let send = async {
                // The server may close before reading everything.
                let _ = write.write_all(input).await;
                let _ = write.shutdown().await;
            };
            let mut output = Vec::new();
            let receive = read.read_to_end(&mut output);
            let (_, _) = tokio::join!(send, receive);
            let _ = serving.await;
            output
        })
    }

    /// Sessions currently kept.
    pub fn session_count(&self) -> usize {
        self.shared.session_count()
    }
}

impl<A: TamApp> Drop for OfflineServer<A> {
    fn drop(&mut self) {
        self.shared.end_all();
    }
}
