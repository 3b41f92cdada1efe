//! Starting and stopping a server: the binary and the end-to-end tests use the same calls.

use crate::app::App;
use crate::http::{router, router_with, HttpSettings, SettingsError};
use axum::Router;
use std::future::IntoFuture;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct Running {
    pub addr: SocketAddr,
    app: App,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
    projector: Vec<JoinHandle<()>>,
}

/// Why a server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("cannot listen on {bind}: {source}")]
    Bind { bind: String, source: std::io::Error },
}

/// Binds `bind` (port 0 picks a free one), starts the projector loops and serves HTTP with the default
/// [`HttpSettings`].
pub async fn start(app: App, bind: &str) -> std::io::Result<Running> {
    let routes = router(app.clone());
    serve(app, bind, routes).await
}

/// Like [`start`], with the given limits and CORS origins; refuses settings it cannot honour.
pub async fn start_with(app: App, bind: &str, settings: &HttpSettings) -> Result<Running, StartError> {
    let routes = router_with(app.clone(), settings)?;
    let running =
        serve(app, bind, routes).await.map_err(|source| StartError::Bind { bind: bind.to_string(), source })?;
    tracing::info!(
        cors_origins = ?settings.cors_origins,
        request_timeout_secs = settings.request_timeout.as_secs_f64(),
        max_body_bytes = settings.max_body_bytes,
        "request limits"
    );
    Ok(running)
}

async fn serve(app: App, bind: &str, routes: Router) -> std::io::Result<Running> {
    let listener = TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let projector = app.spawn_projector();
    let (shutdown, signal) = oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(listener, routes)
            .with_graceful_shutdown(async move {
                let _ = signal.await;
            })
            .into_future(),
    );
    tracing::info!(%addr, store = app.db().backend(), "serving GraphQL at http://{addr}/graphql");
    Ok(Running { addr, app, shutdown, server, projector })
}

/// Waits for the signal to stop: Ctrl-C, or SIGTERM, which `kill`, systemd and container runtimes
/// send before they resort to SIGKILL. Returns the signal's name for the log.
pub fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = std::io::Result<&'static str>>> {
    // SIGTERM's handler is installed here, not when the future is first polled: a signal that
    // arrives between the server saying it listens and that first poll would otherwise kill the
    // process outright (a test, or a supervisor, may send it at once).
    #[cfg(unix)]
    {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                interrupted = tokio::signal::ctrl_c() => interrupted.map(|()| "SIGINT"),
                _ = terminate.recv() => Ok("SIGTERM"),
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async { tokio::signal::ctrl_c().await.map(|()| "Ctrl-C") })
    }
}

impl Running {
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Stops accepting connections, lets the requests in flight finish (the projector still runs, so
    /// a mutation's answer still waits for its views), then stops the projector between batches and
    /// closes the database.
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        match self.server.await {
            Ok(Err(err)) => tracing::warn!(error = %err, "server stopped with an error"),
            Err(err) => tracing::warn!(error = %err, "server task failed"),
            Ok(Ok(())) => {}
        }
        self.app.projector().shutdown();
        for handle in self.projector {
            let _ = handle.await;
        }
        self.app.db().close().await;
    }
}
