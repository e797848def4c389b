//! `otrp agent`: the device side over HTTP. The software TEE of a state
//! directory, behind the OTrP Broker, answers whatever a TAM sends through
//! the otrp-http agent; one line per message.

use std::path::PathBuf;
use std::time::Instant;

use otrp_core::broker::{Answer, Broker, routing_info};
use otrp_core::message::{Direction, Limits};
use otrp_core::tee::Tee;
use otrp_http::{Agent, AgentError, AgentReport, HandlerError};

use crate::util::{Error, Result, ms, now, outln};

#[derive(clap::Args, Debug)]
pub struct AgentArgs {
    /// The TAM's URL (http on loopback, or https).
    #[arg(long)]
    pub tam: String,
    /// The software TEE's state directory (`otrp tee init`).
    #[arg(long)]
    pub state: PathBuf,
    /// PEM root certificates the TAM's TLS certificate must chain to (an
    /// https TAM needs it; `--ca` is the old name).
    #[arg(long, alias = "ca")]
    pub tam_root: Option<PathBuf>,
    /// Allow plain http to a host that is not a loopback address.
    #[arg(long)]
    pub insecure_http: bool,
    #[command(flatten)]
    pub wait: crate::tee::WaitArg,
}

/// One TAM message the device answered.
#[derive(Clone, Debug)]
pub struct Handled {
    /// The request's command name (`GetDeviceState`, `CreateSD`, ...).
    pub name: String,
    /// Request bytes.
    pub request: usize,
    /// Response bytes.
    pub response: usize,
    /// What the broker did with it.
    pub outcome: String,
}

/// The command name of a request message, for step lines.
pub fn message_name(request: &[u8]) -> String {
    match routing_info(request, &Limits::DEFAULT) {
        Ok(info) => {
            let full = info.kind.envelope_name(Direction::Request);
            full.strip_suffix("Request").unwrap_or(full).to_string()
        }
        Err(_) => "(not a request)".into(),
    }
}

/// Hands one TAM message to the broker; the answer goes back to the TAM
/// (an `OTrPBrokerError` too: the TAM is told, section 10).
pub fn process(broker: &mut Broker<Tee>, request: &[u8], log: &mut Vec<Handled>) -> Vec<u8> {
    let answer = broker.process(request, now());
    let outcome = match &answer {
        Answer::Tee { tee, .. } => format!("answered by TEE {tee}"),
        Answer::DeviceState { answered, .. } => {
            format!("answered by TEE {}", answered.join(", "))
        }
        Answer::Error { error, reason } => {
            format!("OTrPBrokerError {} ({reason})", error.errcode.as_str())
        }
    };
    let response = answer.into_bytes();
    log.push(Handled {
        name: message_name(request),
        request: request.len(),
        response: response.len(),
        outcome,
    });
    response
}

/// The time of step `k`: the TEE's handling of message `k` plus the round
/// trip that carried its answer (and brought the next message).
pub fn step_ms(report: &AgentReport, k: usize) -> f64 {
    let handling = report
        .exchanges
        .get(k)
        .map(|x| x.handling)
        .unwrap_or_default();
    let round_trip = report
        .exchanges
        .get(k + 1)
        .map(|x| x.round_trip)
        .unwrap_or_default();
    ms(handling + round_trip)
}

/// An agent for `url` with the options of the command line.
pub fn agent(url: &str, ca: Option<&std::path::Path>, insecure_http: bool) -> Result<Agent> {
    let mut agent = Agent::new(url)
        .map_err(|e| Error::msg(e.to_string()))?
        .allow_insecure_http(insecure_http);
    if let Some(path) = ca {
        agent = agent
            .with_root_certificates_pem_file(path)
            .map_err(|e| Error::msg(e.to_string()))?;
    }
    Ok(agent)
}

/// `otrp agent`: one session; the state directory stays locked for all of
/// it. Each TAM message is printed as it is answered; a refusal by the TEE
/// (or the broker) ends the command with exit status 3 once the TAM has
/// ended the session.
pub fn run(args: &AgentArgs) -> Result<()> {
    let provider = otrp_crypto_rustcrypto::provider();
    let access = crate::tee::Access {
        read_only: false,
        wait: args.wait.duration(),
    };
    let (tee, name) = crate::tee::open(&args.state, provider, access)?;
    let mut broker: Broker<Tee> = Broker::new(Limits::DEFAULT);
    broker.register(name.clone(), tee);
    let agent = agent(&args.tam, args.tam_root.as_deref(), args.insecure_http)?;
    tracing::info!("device session with {}", args.tam);
    let mut log: Vec<Handled> = Vec::new();
    let mut refused: Vec<String> = Vec::new();
    let started = Instant::now();
    let mut handler = |request: &[u8]| -> std::result::Result<Vec<u8>, HandlerError> {
        let t = Instant::now();
        let response = process(&mut broker, request, &mut log);
        let n = log.len();
        if let Some(h) = log.last_mut() {
            let refusals = crate::outcome::with_tee_reason(
                crate::outcome::refusals(&response),
                broker.endpoint(&name),
            );
            if !refusals.is_empty() {
                h.outcome = format!(
                    "REFUSED by the TEE: {}",
                    crate::outcome::describe(&refusals)
                );
            }
            if !refusals.is_empty() || h.outcome.starts_with("OTrPBrokerError") {
                refused.push(format!("{} {}", h.name, h.outcome));
            }
            outln!(
                "{:>3}  {:<17} {:>9} {:>9} {:>9.1} ms  {}",
                n,
                h.name,
                format!("{} B", h.request),
                format!("{} B", h.response),
                ms(t.elapsed()),
                h.outcome
            );
            use std::io::Write as _;
            let _ = std::io::stdout().flush();
            tracing::debug!("answered {} with {} bytes", h.name, h.response);
        }
        Ok(response)
    };
    let report = agent.run_blocking(&mut handler);
    let report = report.map_err(|e| exchange_error(&args.tam, &e, log.last()))?;
    outln!(
        "exchange {} after {} round trips ({:.1} ms)",
        if report.ended_by_tam {
            "ended by the TAM"
        } else {
            "ended by the device"
        },
        report.exchanges.len(),
        ms(started.elapsed())
    );
    match refused.as_slice() {
        [] => Ok(()),
        all => Err(Error::refused(format!(
            "{} of {} TAM message(s) refused: {}",
            all.len(),
            log.len(),
            all.join("; ")
        ))),
    }
}

/// The one line for a failed exchange. An HTTP 400 from a TAM means it could
/// not use the device's last answer (draft 5.5): say which answer and what
/// it was, which is what a user can act on.
fn exchange_error(tam: &str, e: &AgentError, last: Option<&Handled>) -> Error {
    match (e, last) {
        (
            AgentError::Status {
                status: 400,
                message,
            },
            Some(h),
        ) => {
            let detail = message.trim();
            Error::msg(format!(
                "the TAM at {tam} could not use the device's answer to {} ({}){}; \
                 the TAM ended the session (HTTP 400)",
                h.name,
                h.outcome,
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(": {detail}")
                }
            ))
        }
        (
            AgentError::Status {
                status: 400,
                message,
            },
            None,
        ) => Error::msg(format!(
            "the TAM at {tam} refused the device's first request (HTTP 400: {}); \
             is {tam} an OTrP TAM endpoint?",
            message.trim()
        )),
        _ => Error::msg(format!("exchange with the TAM at {tam}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_http_400_names_the_answer_the_tam_could_not_use() {
        let last = Handled {
            name: "CreateSD".into(),
            request: 10,
            response: 20,
            outcome: "answered by TEE soft-tee".into(),
        };
        let e = AgentError::Status {
            status: 400,
            message: "response does not match\n".into(),
        };
        let line = exchange_error("http://127.0.0.1:1/tam", &e, Some(&last)).to_string();
        assert_eq!(
            line,
            "the TAM at http://127.0.0.1:1/tam could not use the device's answer to CreateSD \
             (answered by TEE soft-tee): response does not match; the TAM ended the session \
             (HTTP 400)"
        );
        assert!(!line.contains("the TAM answered 400"));
        let first = exchange_error("http://x/tam", &e, None).to_string();
        assert!(
            first.contains("refused the device's first request"),
            "{first}"
        );
        let other = AgentError::TooManyExchanges(3);
        assert_eq!(
            exchange_error("http://x/tam", &other, None).to_string(),
            "exchange with the TAM at http://x/tam: more than 3 round trips"
        );
    }
}
