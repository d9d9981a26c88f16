//! `cinder`: see `cinder --help` and app/cli/README.md.
use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = cinder_cli::cli::Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn,tarpc=off".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if cli.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
    std::process::exit(cinder_cli::cli::main_with(cli).await.into());
}
