//! The service behind the real OTrP/HTTP server (otrp-http) with device
//! agents over loopback, and the admin API (authenticated JSON).

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use otrp_http::{Agent, HandlerError, ServerConfig, TamServer};
use otrp_tam::admin::{self, AdminState};
use otrp_tam::clock::Clock;
use support::*;

const TOKEN: &str = "0123456789abcdef-admin-token";

/// One HTTP/1.1 request; returns the status and the body.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn fleet_over_http_and_the_admin_api() {
    each_database(3, "http", |fleet, url| {
        let service = Arc::new(service(url, Clock::system()));
        let server = TamServer::start(
            "127.0.0.1:0".parse().unwrap(),
            fleet.tam.clone(),
            service.clone(),
            ServerConfig::default(),
        )
        .unwrap();
        let state =
            AdminState::new(service.store().clone(), provider(), TOKEN, Clock::system()).unwrap();
        let (listener, admin_addr) = service
            .block_on(admin::bind("127.0.0.1:0".parse().unwrap()))
            .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        service
            .handle()
            .spawn(admin::serve(listener, state, async move {
                let _ = stopped.await;
            }));

        // Unauthenticated or wrong token: 401, nothing done.
        assert_eq!(http(admin_addr, "GET", "/v1/devices", None, b"").0, 401);
        assert_eq!(
            http(
                admin_addr,
                "GET",
                "/v1/devices",
                Some("wrong-token-wrong-token"),
                b""
            )
            .0,
            401
        );
        // The SP root comes from the deployment (tam serve --pki).
        service
            .block_on(
                service
                    .store()
                    .add_sp_anchors(&fleet.anchors(), "operator", 1),
            )
            .unwrap();
        let (status, body) = http(
            admin_addr,
            "POST",
            "/v1/tas?spid=sp1",
            Some(TOKEN),
            &fleet.image("wallet", 1),
        );
        assert_eq!(status, 201, "{body}");
        assert!(body.contains("\"version\":1"), "{body}");
        // Bad input: 400 with one error, nothing changed.
        let (status, body) = http(admin_addr, "POST", "/v1/tas?spid=sp1", Some(TOKEN), b"junk");
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("does not verify"), "{body}");
        let (status, body) = http(
            admin_addr,
            "PUT",
            "/v1/policy",
            Some(TOKEN),
            br#"{"spid":"sp1","sd":"sd1","ta":"nothing"}"#,
        );
        assert_eq!(status, 400, "{body}");
        let (status, _) = http(admin_addr, "PUT", "/v1/policy", Some(TOKEN), b"{not json");
        assert_eq!(status, 400);
        let (status, body) = http(
            admin_addr,
            "PUT",
            "/v1/policy",
            Some(TOKEN),
            br#"{"spid":"sp1","sd":"sd1","ta":"wallet","devices":"all"}"#,
        );
        assert_eq!(status, 200, "{body}");

        // Every device reconciled over HTTP.
        let mut devices: Vec<_> = (0..3).map(|i| fleet.device(i)).collect();
        let run = |devices: &mut Vec<otrp_core::broker::Broker<otrp_core::tee::Tee>>| {
            for d in devices.iter_mut() {
                let mut handler = |request: &[u8]| -> Result<Vec<u8>, HandlerError> {
                    Ok(d.process(request, now()).into_bytes())
                };
                let report = Agent::new(&server.url())
                    .unwrap()
                    .run_blocking(&mut handler)
                    .unwrap();
                assert!(report.ended_by_tam);
            }
        };
        run(&mut devices);
        let (status, body) = http(admin_addr, "GET", "/v1/devices", Some(TOKEN), b"");
        assert_eq!(status, 200);
        let reports: serde_json::Value = serde_json::from_str(&body).unwrap();
        let reports = reports.as_array().unwrap();
        assert_eq!(reports.len(), 3, "{body}");
        for r in reports {
            assert_eq!(r["compliant"], true, "{r}");
            assert_eq!(r["sds"][0]["sdname"], "sd1");
            assert_eq!(r["sds"][0]["spid"], "sp1");
            assert_eq!(
                r["sds"][0]["tas"][0],
                serde_json::json!({"taid": "wallet", "version": 1})
            );
            assert_eq!(r["did"].as_str().unwrap().len(), 43);
            assert!(r["last_contact"].as_str().unwrap().ends_with('Z'));
        }

        // Retired through the API.
        assert_eq!(
            http(admin_addr, "DELETE", "/v1/policy/wallet", Some(TOKEN), b"").0,
            204
        );
        assert_eq!(
            http(admin_addr, "DELETE", "/v1/policy/wallet", Some(TOKEN), b"").0,
            400
        );
        run(&mut devices);
        for (i, d) in devices.iter().enumerate() {
            assert!(tee_contents(d, i).is_empty());
        }
        let (status, body) = http(admin_addr, "GET", "/v1/audit/verify", Some(TOKEN), b"");
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"verified\":true"), "{body}");
        let (_, body) = http(admin_addr, "GET", "/v1/audit", Some(TOKEN), b"");
        let audit: serde_json::Value = serde_json::from_str(&body).unwrap();
        let actors: Vec<&str> = audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["actor"].as_str().unwrap())
            .collect();
        assert!(
            actors.contains(&"admin") && actors.contains(&"reconciler"),
            "{actors:?}"
        );

        let _ = stop.send(());
        server.shutdown();
    });
}
