//! `kobai serve`: the playground — a local web page to type a formula, see
//! its gradient field and watch optimizers race down it, and one to train a
//! network on points in the plane and watch it learn.

use anyhow::{Context, Result};

/// Options of `kobai serve`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Prints the page's URL as its first line, then serves until Ctrl-C; the
network page is at /network. The pages and their scripts are built into the
binary: no network is needed. They use a JSON API that scripts can use too
(see the README):
  GET /api/grad?f=x0^2+x1^2&at=1,2             as `kobai grad F --at 1,2 --json`
  GET /api/descend?f=…&from=-3,4&optimizer=adam&lr=0.1&steps=100
                                               as `kobai descend … --json`
  GET /api/surface?f=…&x0=-3,3&x1=-3,3&n=60    f and ∇f on an n×n grid
  POST /api/net  {\"data\":\"xor\",\"hidden\":[4]}   a network to train; its id
  GET /api/net/ID/train?every=10               its training, as server-sent events
Bad requests get a 4xx answer with {\"error\": …}.")]
pub struct Args {
    /// Address to listen on (127.0.0.1: this machine only).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, value_name = "N", default_value_t = 7878)]
    port: u16,
}

/// Binds, prints the URL, serves until Ctrl-C or SIGTERM.
pub fn run(args: &Args) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the server's runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
        let address = listener.local_addr()?;
        outln!("http://{address}/");
        let (router, stopper) = crate::serve::playground();
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                shutdown().await;
                stopper.stop();
            })
            .await
            .context("the server stopped")
    })
}

/// Resolves at Ctrl-C or SIGTERM.
async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = interrupt => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
