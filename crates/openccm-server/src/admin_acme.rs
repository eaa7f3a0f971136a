//! `openccm admin acme`: ACME on a private CA, from the command line
//! (docs/api/acme.md): switching it on or off, and making EAB keys. The
//! commands act as the account's administrator, through the same calls as
//! the HTTP API.

use clap::Subcommand;
use openccm_app::iam::Iam;
use openccm_app::pca::acme::{AcmeInput, AcmeView};

use crate::admin::{administrator, open_pca};
use crate::config::Config;

/// ACME commands.
#[derive(Debug, Subcommand)]
pub enum AcmeCommand {
    /// Switches ACME on for an active CA, with a policy; prints the
    /// directory URL clients are given.
    Enable {
        /// Account name.
        #[arg(long)]
        account: String,
        /// The CA's id.
        #[arg(long)]
        ca_id: String,
        /// Let ACME accounts be created without an EAB key.
        #[arg(long)]
        no_eab: bool,
        /// An identifier that may be ordered: a DNS name, `*.name`, an IP
        /// address or a CIDR range (repeat for more; none: any).
        #[arg(long = "allow")]
        allow: Vec<String>,
        /// A challenge type to offer: http-01, dns-01, tls-alpn-01 (repeat
        /// for more; none: all three).
        #[arg(long = "challenge")]
        challenges: Vec<String>,
        /// The longest validity of an ACME certificate, in days.
        #[arg(long)]
        max_validity_days: Option<i64>,
    },
    /// Switches ACME off for a CA (its settings are kept).
    Disable {
        /// Account name.
        #[arg(long)]
        account: String,
        /// The CA's id.
        #[arg(long)]
        ca_id: String,
    },
    /// External account binding keys.
    #[command(subcommand)]
    Eab(EabCommand),
}

/// EAB key commands.
#[derive(Debug, Subcommand)]
pub enum EabCommand {
    /// Makes an EAB key for a CA; prints its id and HMAC key, once.
    Create {
        /// Account name: ACME accounts made with the key belong to it.
        #[arg(long)]
        account: String,
        /// The CA's id.
        #[arg(long)]
        ca_id: String,
        /// What the key is for.
        #[arg(long)]
        description: Option<String>,
    },
}

fn print_settings(view: &AcmeView) {
    let s = &view.settings;
    match &view.directory_url {
        Some(url) => println!("ACME on    : {url}"),
        None => println!("ACME off"),
    }
    println!(
        "EAB        : {}",
        if s.eab_required {
            "required"
        } else {
            "optional"
        }
    );
    println!(
        "identifiers: {}",
        if s.allowed_identifiers.is_empty() {
            "any".to_owned()
        } else {
            s.allowed_identifiers.join(", ")
        }
    );
    println!(
        "challenges : {}",
        s.challenges
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("validity   : at most {} days", s.max_validity_days);
}

/// Runs an ACME command.
pub async fn run(config: &Config, iam: &Iam, command: AcmeCommand) -> Result<(), String> {
    let e = |err: openccm_app::Error| err.to_string();
    let ca = |id: &str| openccm_app::pca::input::ca_id(id).map_err(e);
    let pca = open_pca(config, iam)?;
    match command {
        AcmeCommand::Enable {
            account,
            ca_id,
            no_eab,
            allow,
            challenges,
            max_validity_days,
        } => {
            let caller = administrator(iam, &account).await?;
            let input = AcmeInput {
                enabled: Some(true),
                eab_required: Some(!no_eab),
                allowed_identifiers: Some(allow),
                challenges: (!challenges.is_empty()).then_some(challenges),
                max_validity_days,
                key_algorithms: None,
            };
            let view = pca
                .configure_acme(&caller, &ca(&ca_id)?, input)
                .await
                .map_err(e)?;
            print_settings(&view);
        }
        AcmeCommand::Disable { account, ca_id } => {
            let caller = administrator(iam, &account).await?;
            let ca_id = ca(&ca_id)?;
            // Off, keeping the policy that was set.
            let current = pca
                .acme_settings(&caller, &ca_id)
                .await
                .map_err(e)?
                .settings;
            let input = AcmeInput {
                enabled: Some(false),
                ..AcmeInput::from(&current)
            };
            let view = pca
                .configure_acme(&caller, &ca_id, input)
                .await
                .map_err(e)?;
            print_settings(&view);
        }
        AcmeCommand::Eab(EabCommand::Create {
            account,
            ca_id,
            description,
        }) => {
            let caller = administrator(iam, &account).await?;
            let new = pca
                .create_eab_key(&caller, &ca(&ca_id)?, description)
                .await
                .map_err(e)?;
            // Shown once, on standard output: the ACME client's operator
            // keeps it (certbot --eab-kid/--eab-hmac-key, lego
            // --eab --kid/--hmac).
            println!("key_id   : {}", new.key.key_id);
            println!("hmac_key : {}", new.hmac_key.as_str());
        }
    }
    Ok(())
}
