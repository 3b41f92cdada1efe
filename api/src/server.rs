//! Starting and stopping a server: the binary and the end-to-end tests use the same calls.

use crate::app::App;
use crate::http::router;
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

/// Binds `bind` (port 0 picks a free one), starts the projector loops and serves HTTP.
pub async fn start(app: App, bind: &str) -> std::io::Result<Running> {
    let listener = TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let projector = app.spawn_projector();
    let (shutdown, signal) = oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(listener, router(app.clone()))
            .with_graceful_shutdown(async move {
                let _ = signal.await;
            })
            .into_future(),
    );
    tracing::info!(%addr, store = app.db().backend(), "serving GraphQL at http://{addr}/graphql");
    Ok(Running { addr, app, shutdown, server, projector })
}

impl Running {
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Finishes open requests, stops the projector and closes the database.
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
