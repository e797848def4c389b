//! `otrp agent`: the device side over HTTP. The software TEE of a state
//! directory, behind the OTrP Broker, answers whatever a TAM sends through
//! the otrp-http agent; one line per message.

use std::path::PathBuf;
use std::time::Instant;

use otrp_core::broker::{Answer, Broker, routing_info};
use otrp_core::message::{Direction, Limits};
use otrp_core::tee::Tee;
use otrp_http::{Agent, AgentReport, HandlerError};

use crate::util::{Error, Result, ms, now, outln};

#[derive(clap::Args, Debug)]
pub struct AgentArgs {
    /// The TAM's URL (http on loopback, or https).
    #[arg(long)]
    pub tam: String,
    /// The software TEE's state directory (`otrp tee init`).
    #[arg(long)]
    pub state: PathBuf,
    /// PEM root certificates for an https TAM.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Allow plain http to a host that is not a loopback address.
    #[arg(long)]
    pub insecure_http: bool,
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
            .with_root_certificates_pem(&crate::util::read_text(path)?)
            .map_err(|e| Error::msg(e.to_string()))?;
    }
    Ok(agent)
}

/// `otrp agent`.
pub fn run(args: &AgentArgs) -> Result<()> {
    let provider = otrp_crypto_rustcrypto::provider();
    let (tee, name) = crate::tee::open(&args.state, provider)?;
    let mut broker: Broker<Tee> = Broker::new(Limits::DEFAULT);
    broker.register(name, tee);
    let agent = agent(&args.tam, args.ca.as_deref(), args.insecure_http)?;
    let mut log = Vec::new();
    let started = Instant::now();
    let mut handler = |request: &[u8]| -> std::result::Result<Vec<u8>, HandlerError> {
        Ok(process(&mut broker, request, &mut log))
    };
    let report = agent
        .run_blocking(&mut handler)
        .map_err(|e| Error::msg(format!("exchange with {}: {e}", args.tam)))?;
    for (k, h) in log.iter().enumerate() {
        outln!(
            "{:>3}  {:<17} {:>9} {:>9} {:>9.1} ms  {}",
            k + 1,
            h.name,
            format!("{} B", h.request),
            format!("{} B", h.response),
            step_ms(&report, k),
            h.outcome
        );
    }
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
    Ok(())
}
