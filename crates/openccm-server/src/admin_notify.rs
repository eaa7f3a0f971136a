//! `openccm admin notification`: where an account's expiry notices go
//! (`openccm_app::notify`), and what was sent.

use openccm_app::iam::Iam;

use crate::admin::NotificationCommand;

/// Runs a notification command.
pub async fn run(iam: &Iam, command: NotificationCommand) -> Result<(), String> {
    let e = |err: &dyn std::fmt::Display| err.to_string();
    match command {
        NotificationCommand::Set {
            account,
            emails,
            webhook_url,
            days,
        } => {
            let account = iam.account_named(&account).await.map_err(|x| e(&x))?;
            let days = days
                .split(',')
                .map(|d| {
                    d.trim()
                        .parse::<i64>()
                        .map_err(|_| format!("{d:?} is not a number of days"))
                })
                .collect::<Result<Vec<i64>, String>>()?;
            let request = openccm_app::notify::ChannelRequest {
                emails,
                webhook_url,
                days,
            };
            let (channels, secret) = openccm_app::notify::channels_for(
                iam.keyring(),
                &account.domain_id,
                &request,
                iam.clock().now_ms(),
            )
            .map_err(|x| e(&x))?;
            iam.store()
                .set_channels(&channels)
                .await
                .map_err(|x| e(&x))?;
            println!("notices of {} go to:", account.name);
            for email in &channels.emails {
                println!("  e-mail  {email}");
            }
            if let Some(url) = &channels.webhook_url {
                println!("  webhook {url}");
            }
            println!(
                "  at {} days before expiry, and at expiry",
                channels
                    .days
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if let Some(secret) = secret {
                // Shown once, on standard output: the receiver keeps it.
                println!("webhook secret      : {}", secret.as_str());
                println!(
                    "(check X-OpenCCM-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">)"
                );
            }
        }
        NotificationCommand::Show { account } => {
            let account = iam.account_named(&account).await.map_err(|x| e(&x))?;
            let store = iam.store();
            match store
                .channels(&account.domain_id)
                .await
                .map_err(|x| e(&x))?
            {
                None => println!("no notification channels"),
                Some(c) => {
                    println!("e-mail  {}", c.emails.join(", "));
                    println!("webhook {}", c.webhook_url.as_deref().unwrap_or("none"));
                    println!(
                        "days    {}",
                        c.days
                            .iter()
                            .map(i64::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
            }
            for (n, delivered) in store
                .notices(&account.domain_id, 50)
                .await
                .map_err(|x| e(&x))?
            {
                println!(
                    "{} {:<7} {:<13} {} {} ({} days) {}",
                    n.event_id,
                    n.channel,
                    n.notice_type,
                    n.resource_type,
                    n.resource_name,
                    n.days_before,
                    match (delivered, &n.last_error) {
                        (Some(_), _) => format!("delivered after {} attempt(s)", n.attempts),
                        (None, Some(why)) => format!("pending, {} attempt(s): {why}", n.attempts),
                        (None, None) => "pending".to_owned(),
                    }
                );
            }
        }
    }
    Ok(())
}
