//! The SMTP transport of the delivery engine (`mailer::delivery::transport`) against the fake
//! SMTP server: replies and their classification, timeouts, reconnects, pooling, and the
//! TCP_NODELAY speed-up; plus `SMTP_URL` parsing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lettre::Address;
use mailer::delivery::transport::{Reply, SendError, SmtpConfig, SmtpPool, TlsMode};
use mailer_tests::smtp::{Behavior, FakeSmtp, Greylist};
use secrecy::ExposeSecret;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const MESSAGE: &[u8] = b"From: a@x\r\nTo: b@y\r\nSubject: t\r\nMessage-ID: <1@x>\r\n\r\nhello\r\n";

fn address(s: &str) -> Address {
    s.parse().unwrap()
}

fn config(url: &str, pool_size: usize) -> SmtpConfig {
    let mut config = SmtpConfig::from_url(url).unwrap();
    config.pool_size = pool_size;
    config.connect_timeout = Duration::from_secs(1);
    config.send_timeout = Duration::from_secs(1);
    config
}

fn pool(smtp: &FakeSmtp, pool_size: usize) -> SmtpPool {
    SmtpPool::new(config(&smtp.url(), pool_size))
}

async fn send(pool: &SmtpPool) -> Result<Reply, SendError> {
    pool.send(&address("a@x.test"), &[address("b@y.test")], MESSAGE)
        .await
}

#[tokio::test]
async fn accepted_message_arrives_unchanged() {
    let smtp = FakeSmtp::start().await;
    let reply = send(&pool(&smtp, 1)).await.unwrap();
    assert_eq!(reply.code, 250);
    assert_eq!(reply.text, "2.0.0 Ok: queued as 1");
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.from, "a@x.test");
    assert_eq!(m.to, ["b@y.test"]);
    assert_eq!(m.header("Message-ID").as_deref(), Some("<1@x>"));
    // The final CRLF is not doubled (lettre's own transport adds an empty line).
    assert_eq!(m.data.as_bytes(), MESSAGE);
}

#[tokio::test]
async fn dot_stuffing_and_several_recipients() {
    let smtp = FakeSmtp::start().await;
    let message = b"Subject: dots\r\n\r\n.leading\r\n.\r\nend";
    let to = [address("b@y.test"), address("c@y.test")];
    let reply = pool(&smtp, 1)
        .send(&address("a@x.test"), &to, message)
        .await
        .unwrap();
    assert_eq!(reply.code, 250);
    let m = &smtp.messages()[0];
    assert_eq!(m.to, ["b@y.test", "c@y.test"]);
    assert_eq!(m.data, "Subject: dots\r\n\r\n.leading\r\n.\r\nend\r\n");
}

/// MAIL FROM, RCPT TO and DATA go out in one write where the server offers PIPELINING,
/// and one by one, each after its reply, where it does not; the message arrives whole
/// either way.
#[tokio::test]
async fn the_envelope_is_pipelined_only_where_the_server_offers_it() {
    for offered in [true, false] {
        let smtp = FakeSmtp::start().await;
        smtp.set_pipelining(offered);
        let pool = pool(&smtp, 1);
        for _ in 0..3 {
            assert_eq!(send(&pool).await.unwrap().code, 250, "offered: {offered}");
        }
        let stats = smtp.stats();
        assert_eq!(stats.accepted, 3, "offered: {offered}");
        if offered {
            assert!(stats.pipelined >= 3, "offered, yet {stats:?}");
        } else {
            assert_eq!(stats.pipelined, 0, "not offered, yet {stats:?}");
        }
        for m in smtp.messages() {
            assert_eq!(m.from, "a@x.test");
            assert_eq!(m.to, ["b@y.test"]);
            assert_eq!(m.data.as_bytes(), MESSAGE);
        }
        assert_eq!(smtp.connections(), 1);
    }
}

#[tokio::test]
async fn hundred_sequential_sends_reuse_one_connection_without_nagle_stalls() {
    let smtp = FakeSmtp::start().await;
    let pool = pool(&smtp, 1);
    let started = Instant::now();
    for _ in 0..100 {
        send(&pool).await.unwrap();
    }
    let elapsed = started.elapsed();
    eprintln!("100 sequential sends: {elapsed:?}");
    assert_eq!(smtp.messages().len(), 100);
    assert_eq!(smtp.connections(), 1);
    // With Nagle + delayed ACK each message would stall ~40 ms (4 s in all).
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

/// A 4xx after DATA is about this message: deferred, not a sign of a sick server.
#[tokio::test]
async fn temp_fail_after_data_is_deferred_with_its_code() {
    let smtp = FakeSmtp::start().await;
    smtp.script([Behavior::TempFail]);
    let err = send(&pool(&smtp, 1)).await.unwrap_err();
    assert!(matches!(err, SendError::Deferred { .. }), "{err:?}");
    assert!(!err.is_permanent(), "{err:?}");
    assert_eq!(err.code(), Some(451));
    assert_eq!(err.text(), "4.3.0 Try again later");
    assert!(smtp.messages().is_empty());
}

/// Greylisting answers 451 to RCPT TO: that recipient is deferred (on both the pipelined
/// and the plain path), and its next try after the greylisting goes through.
#[tokio::test]
async fn a_greylisted_recipient_is_deferred() {
    for pipelining in [true, false] {
        let smtp = FakeSmtp::start().await;
        smtp.set_pipelining(pipelining);
        smtp.greylist(Some(Greylist {
            tries: 1,
            delay: Duration::ZERO,
        }));
        let pool = pool(&smtp, 1);
        let err = send(&pool).await.unwrap_err();
        assert_eq!(
            err,
            SendError::Deferred {
                code: 451,
                text: "4.7.1 Greylisted, please try again later".into()
            },
            "pipelining {pipelining}"
        );
        send(&pool).await.expect("the retry is accepted");
        assert_eq!(smtp.messages().len(), 1);
    }
}

/// A 421 ends the session: that is the server's trouble, whatever the stage.
#[tokio::test]
async fn a_421_is_transient_not_deferred() {
    let smtp = FakeSmtp::start().await;
    smtp.script([Behavior::ShutDown]);
    let err = send(&pool(&smtp, 1)).await.unwrap_err();
    assert!(
        matches!(
            err,
            SendError::Transient {
                code: Some(421),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn perm_fail_is_permanent_with_the_server_text() {
    let smtp = FakeSmtp::start().await;
    smtp.script([Behavior::PermFail]);
    let err = send(&pool(&smtp, 1)).await.unwrap_err();
    assert_eq!(
        err,
        SendError::Permanent {
            code: 550,
            text: "5.1.1 Mailbox unavailable".into(),
            reason: None,
        }
    );
    assert!(err.is_permanent());
    assert_eq!(
        err.to_string(),
        "SMTP refused the message: 550 5.1.1 Mailbox unavailable"
    );
    assert_eq!(smtp.stats().perm_failed, 1);
}

#[tokio::test]
async fn dropped_connection_is_transient_and_not_resent_then_reconnects() {
    let smtp = FakeSmtp::start().await;
    let pool = pool(&smtp, 1);
    send(&pool).await.unwrap();
    // On the reused connection: the server may have the message, so no retry.
    smtp.script([Behavior::Drop]);
    let err = send(&pool).await.unwrap_err();
    assert!(!err.is_permanent(), "{err:?}");
    assert_eq!(err.code(), None);
    assert!(err.text().contains("end of DATA"), "{err}");
    assert_eq!((smtp.connections(), smtp.stats().dropped), (1, 1));

    send(&pool).await.unwrap();
    assert_eq!(smtp.connections(), 2);
    assert_eq!(smtp.messages().len(), 2);
}

#[tokio::test]
async fn garbage_reply_is_transient() {
    let smtp = FakeSmtp::start().await;
    smtp.script([Behavior::Garbage]);
    let pool = pool(&smtp, 1);
    let err = send(&pool).await.unwrap_err();
    assert!(
        matches!(err, SendError::Transient { code: None, .. }),
        "{err:?}"
    );
    send(&pool).await.unwrap();
    assert_eq!(smtp.connections(), 2);
}

#[tokio::test]
async fn server_that_never_greets_times_out_as_transient() {
    let smtp = FakeSmtp::start().await;
    smtp.script([Behavior::HangUp]);
    let pool = pool(&smtp, 1);
    let started = Instant::now();
    let err = send(&pool).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(!err.is_permanent(), "{err:?}");
    assert!(err.text().contains("within 1s"), "{err}");
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_millis(1500),
        "{elapsed:?}"
    );
    send(&pool).await.unwrap();
}

#[tokio::test]
async fn stall_after_data_hits_the_send_timeout() {
    let smtp = FakeSmtp::start().await;
    smtp.script([Behavior::Delay(Duration::from_secs(3))]);
    let pool = pool(&smtp, 1);
    let started = Instant::now();
    let err = send(&pool).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(err, SendError::Transient { code: None, .. }),
        "{err:?}"
    );
    assert!(err.text().contains("no reply to the end of DATA"), "{err}");
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
    // The stalled connection was dropped: the next send opens a new one.
    send(&pool).await.unwrap();
    assert_eq!(smtp.connections(), 2);
}

#[tokio::test]
async fn refused_connection_is_transient_and_the_pool_recovers() {
    let smtp = FakeSmtp::start().await;
    let pool = pool(&smtp, 1);
    smtp.refuse_connections(true);
    let err = send(&pool).await.unwrap_err();
    assert!(
        matches!(err, SendError::Transient { code: None, .. }),
        "{err:?}"
    );
    assert!(
        err.text().to_lowercase().contains("connection refused"),
        "{err}"
    );
    smtp.refuse_connections(false);
    send(&pool).await.unwrap();
    assert_eq!(smtp.messages().len(), 1);
}

#[tokio::test]
async fn concurrent_sends_stay_within_the_pool_size() {
    let smtp = FakeSmtp::start().await;
    // A little delay so that the sends really overlap.
    smtp.set_default(Behavior::Delay(Duration::from_millis(50)));
    let pool = pool(&smtp, 3);
    let sends = (0..10).map(|_| {
        let pool = pool.clone();
        tokio::spawn(async move { send(&pool).await })
    });
    for result in futures::future::join_all(sends).await {
        assert_eq!(result.unwrap().unwrap().code, 250);
    }
    assert_eq!(smtp.messages().len(), 10);
    assert!(smtp.connections() <= 3, "{}", smtp.connections());
}

#[tokio::test]
async fn tls_required_without_starttls_is_a_transient_error() {
    let smtp = FakeSmtp::start().await;
    let pool = SmtpPool::new(config(&format!("{}?tls=required", smtp.url()), 1));
    let err = send(&pool).await.unwrap_err();
    assert!(!err.is_permanent(), "{err:?}");
    assert!(err.text().contains("STARTTLS"), "{err}");
    // Opportunistic: the fake server offers no STARTTLS, so plain text it is.
    let pool = SmtpPool::new(config(&format!("{}?tls=opportunistic", smtp.url()), 1));
    send(&pool).await.unwrap();
}

#[tokio::test]
async fn credentials_without_server_auth_fail_transiently() {
    let smtp = FakeSmtp::start().await;
    let url = format!("smtp://user:secret@{}", smtp.addr());
    let err = send(&SmtpPool::new(config(&url, 1))).await.unwrap_err();
    assert!(!err.is_permanent(), "{err:?}");
    assert!(err.text().contains("AUTH"), "{err}");
    assert!(!err.text().contains("secret"), "{err}");
}

/// A relay that closes a connection after one message, once it is idle (as servers with a
/// short idle timeout do). With `say_421` it first sends "421 idle timeout", which the client
/// reads as the answer to its next MAIL FROM. It offers PIPELINING when `pipelining`.
async fn one_message_per_connection(
    say_421: bool,
    pipelining: bool,
) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let (rd, mut wr) = stream.into_split();
                let mut rd = BufReader::new(rd);
                wr.write_all(b"220 once ESMTP\r\n").await.unwrap();
                let mut line = String::new();
                loop {
                    line.clear();
                    if rd.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let reply: &[u8] = match line.get(..4).unwrap_or("") {
                        "EHLO" if pipelining => b"250-once\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
                        "EHLO" => b"250-once\r\n250 8BITMIME\r\n",
                        "MAIL" | "RCPT" => b"250 ok\r\n",
                        "DATA" => {
                            wr.write_all(b"354 go on\r\n").await.unwrap();
                            loop {
                                line.clear();
                                if rd.read_line(&mut line).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                if line == ".\r\n" {
                                    break;
                                }
                            }
                            wr.write_all(b"250 2.0.0 queued\r\n").await.unwrap();
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            if say_421 {
                                let _ = wr.write_all(b"421 4.4.2 idle timeout\r\n").await;
                            }
                            return;
                        }
                        _ => b"500 what\r\n",
                    };
                    wr.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (addr, connections)
}

#[tokio::test]
async fn dead_idle_connection_is_replaced_within_the_same_send() {
    for say_421 in [false, true] {
        let (addr, connections) = one_message_per_connection(say_421, false).await;
        let pool = SmtpPool::new(config(&format!("smtp://{addr}"), 1));
        send(&pool).await.unwrap();
        // Let the server close the idle connection.
        tokio::time::sleep(Duration::from_millis(150)).await;
        let reply = send(&pool).await.unwrap();
        assert_eq!(reply.code, 250, "421 first: {say_421}");
        assert_eq!(
            connections.load(Ordering::SeqCst),
            2,
            "421 first: {say_421}"
        );
    }
}

/// The same relay, with messages waiting: each next one went out with the end of the one
/// before, on a connection the server then closed. Its DATA never began, so it goes again
/// on a fresh connection, and every message is accepted once.
#[tokio::test]
async fn a_message_announced_on_a_closing_connection_goes_again_on_a_fresh_one() {
    for say_421 in [false, true] {
        let (addr, connections) = one_message_per_connection(say_421, true).await;
        let pool = SmtpPool::new(config(&format!("smtp://{addr}"), 1));
        let replies = futures::future::join_all((0..3).map(|_| send(&pool))).await;
        for reply in replies {
            assert_eq!(reply.unwrap().code, 250, "421 first: {say_421}");
        }
        assert_eq!(
            connections.load(Ordering::SeqCst),
            3,
            "421 first: {say_421}"
        );
    }
}

/// `n` messages at once through one connection, to `r0@y.test`, `r1@y.test`, …
async fn send_many(pool: &SmtpPool, n: usize) -> Vec<Result<Reply, SendError>> {
    let sends = (0..n).map(|i| {
        let to = [address(&format!("r{i}@y.test"))];
        async move { pool.send(&address("a@x.test"), &to, MESSAGE).await }
    });
    futures::future::join_all(sends).await
}

/// Where the server pipelines, a message waiting for the connection goes out with the end
/// of the one before (its MAIL FROM, RCPT TO and DATA in the same write, RFC 2920); each
/// message still gets its own reply. Without PIPELINING nothing rides along.
#[tokio::test]
async fn waiting_messages_ride_along_with_the_end_of_the_one_before() {
    for offered in [true, false] {
        let smtp = FakeSmtp::start().await;
        smtp.set_pipelining(offered);
        let pool = pool(&smtp, 1);
        let replies = send_many(&pool, 20).await;
        let mut texts: Vec<String> = replies.into_iter().map(|r| r.unwrap().text).collect();
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), 20, "one reply each: {texts:?}");
        let stats = smtp.stats();
        assert_eq!(stats.accepted, 20, "offered: {offered}");
        assert_eq!(stats.chained, if offered { 19 } else { 0 }, "{stats:?}");
        let mut to: Vec<String> = smtp.messages().iter().map(|m| m.to.join(",")).collect();
        to.sort();
        let mut expected: Vec<String> = (0..20).map(|i| format!("r{i}@y.test")).collect();
        expected.sort();
        assert_eq!(to, expected);
        assert_eq!(smtp.connections(), 1);
    }
}

/// A message that fails at its end costs only itself: the one announced behind it had not
/// begun its DATA, so it goes out (on a fresh connection, as after any error), once.
#[tokio::test]
async fn a_failure_in_a_chain_costs_only_its_own_message() {
    for step in [Behavior::Drop, Behavior::Garbage, Behavior::TempFail] {
        let smtp = FakeSmtp::start().await;
        smtp.script([Behavior::Accept, step.clone()]);
        let pool = pool(&smtp, 1);
        let replies = send_many(&pool, 3).await;
        assert!(replies[0].is_ok(), "{step:?}: {replies:?}");
        assert!(
            matches!(
                replies[1],
                Err(SendError::Transient { .. } | SendError::Deferred { .. })
            ),
            "{step:?}: {replies:?}"
        );
        assert!(replies[2].is_ok(), "{step:?}: {replies:?}");
        let to: Vec<String> = smtp.messages().iter().map(|m| m.to.join(",")).collect();
        assert_eq!(to, ["r0@y.test", "r2@y.test"], "{step:?}");
        assert_eq!(smtp.connections(), 2, "{step:?}");
        assert!(smtp.stats().chained >= 1, "{step:?}: {:?}", smtp.stats());
    }
}

/// A message whose sender gave up while it waited for the connection is not sent: nobody
/// would record it, and its delivery would go again later.
#[tokio::test]
async fn a_message_whose_sender_gave_up_is_not_sent() {
    let smtp = FakeSmtp::start().await;
    smtp.script([Behavior::Delay(Duration::from_millis(300))]);
    let pool = pool(&smtp, 1);
    let first = tokio::spawn({
        let pool = pool.clone();
        async move { send(&pool).await }
    });
    // The first holds the only connection; the second waits, and its sender gives up.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second = tokio::time::timeout(Duration::from_millis(50), send(&pool)).await;
    assert!(second.is_err(), "{second:?}");
    assert_eq!(first.await.unwrap().unwrap().code, 250);
    send(&pool).await.unwrap();
    assert_eq!(smtp.messages().len(), 2);
    assert_eq!(smtp.connections(), 1);
}

/// Nor is one whose sender gave up while its envelope was being answered: the server here
/// takes its time with the go-ahead for DATA, and never gets the message's content.
#[tokio::test]
async fn a_message_whose_sender_gave_up_before_data_is_not_sent() {
    let smtp = FakeSmtp::start().await;
    smtp.set_go_ahead_delay(Duration::from_millis(300));
    let pool = pool(&smtp, 1);
    let gave_up = tokio::time::timeout(Duration::from_millis(100), send(&pool)).await;
    assert!(gave_up.is_err(), "{gave_up:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.messages().len(), 0);
    smtp.set_go_ahead_delay(Duration::ZERO);
    send(&pool).await.unwrap();
    assert_eq!(smtp.messages().len(), 1);
}

/// A burst of messages opens connections up to the pool size even while one connection
/// sits idle (without PIPELINING each message holds its connection until its reply).
#[tokio::test]
async fn a_burst_opens_connections_beside_an_idle_one() {
    let smtp = FakeSmtp::start().await;
    smtp.set_pipelining(false);
    let pool = pool(&smtp, 4);
    send(&pool).await.unwrap();
    smtp.set_default(Behavior::Delay(Duration::from_millis(200)));
    for reply in send_many(&pool, 8).await {
        assert_eq!(reply.unwrap().code, 250);
    }
    assert_eq!(smtp.connections(), 4);
}

/// The pool's counts survive the end of the runtime its connection tasks ran on: used
/// from a new runtime, it opens a connection again instead of waiting for a task that is
/// gone.
#[test]
fn a_pool_outlives_the_runtime_of_its_connection_tasks() {
    let server = tokio::runtime::Runtime::new().unwrap();
    let smtp = server.block_on(FakeSmtp::start());
    let pool = pool(&smtp, 1);
    let first = tokio::runtime::Runtime::new().unwrap();
    first.block_on(send(&pool)).unwrap();
    drop(first);
    let second = tokio::runtime::Runtime::new().unwrap();
    let reply =
        second.block_on(async { tokio::time::timeout(Duration::from_secs(5), send(&pool)).await });
    assert_eq!(reply.expect("the send hung").unwrap().code, 250);
    assert_eq!(smtp.messages().len(), 2);
}

#[test]
fn smtp_url_parsing() {
    let c = SmtpConfig::from_url("smtp://mx.example.com").unwrap();
    assert_eq!(
        (c.host.as_str(), c.port, c.tls),
        ("mx.example.com", 25, TlsMode::None)
    );
    assert!(c.credentials.is_none());
    assert!(!c.hello_name.is_empty());
    assert!(c.pool_size >= 1);

    let c = SmtpConfig::from_url("smtp://mx.example.com:2525?tls=required").unwrap();
    assert_eq!((c.port, c.tls), (2525, TlsMode::Required));
    let c = SmtpConfig::from_url("smtp://mx.example.com?tls=opportunistic").unwrap();
    assert_eq!((c.port, c.tls), (587, TlsMode::Opportunistic));
    let c = SmtpConfig::from_url("smtp://mx.example.com?tls=none").unwrap();
    assert_eq!((c.port, c.tls), (25, TlsMode::None));
    let c = SmtpConfig::from_url("smtp://10.1.2.3:26").unwrap();
    assert_eq!((c.host.as_str(), c.port), ("10.1.2.3", 26));

    let c = SmtpConfig::from_url("smtp://us%40er:p%40ss%3Aword@[::1]:26/client.example").unwrap();
    assert_eq!((c.host.as_str(), c.port), ("::1", 26));
    assert_eq!(c.hello_name, "client.example");
    let (user, password) = c.credentials.as_ref().unwrap();
    assert_eq!(user, "us@er");
    assert_eq!(password.expose_secret(), "p@ss:word");
    let debug = format!("{c:?}");
    assert!(debug.contains("us@er"), "{debug}");
    assert!(
        !debug.contains("p@ss") && !debug.contains("word"),
        "{debug}"
    );
}

#[test]
fn smtp_url_errors_name_the_variable_and_hide_the_password() {
    for (url, expected) in [
        ("http://x", "must start with smtp://"),
        ("smtp://", "has no host"),
        ("smtp:///path", "has no host"),
        ("not a url", "not a valid URL"),
        (
            "smtps://mail.example.com",
            "smtps:// (implicit TLS) is not supported yet; use smtp:// with ?tls=required",
        ),
        ("smtp://u:hunter2@x?tls=maybe", "tls=\"maybe\""),
        (
            "smtp://u:hunter2@x?starttls=yes",
            "unknown parameter \"starttls\"",
        ),
        ("smtp://:hunter2@x", "no user name"),
    ] {
        let err = SmtpConfig::from_url(url).unwrap_err().to_string();
        assert!(err.starts_with("SMTP_URL: "), "{url}: {err}");
        assert!(err.contains(expected), "{url}: {err}");
        assert!(!err.contains("hunter2"), "{url}: {err}");
    }
}

#[test]
fn send_error_accessors() {
    let t = SendError::Transient {
        code: Some(451),
        text: "4.3.0 later".into(),
        reason: None,
    };
    assert!(!t.is_permanent());
    assert_eq!((t.code(), t.text()), (Some(451), "4.3.0 later"));
    assert_eq!(
        t.to_string(),
        "SMTP failed, try again later: 451 4.3.0 later"
    );
    let t = SendError::Transient {
        code: None,
        text: "connection reset".into(),
        reason: None,
    };
    assert_eq!(t.code(), None);
    assert_eq!(
        t.to_string(),
        "SMTP failed, try again later: connection reset"
    );
    let d = SendError::Deferred {
        code: 450,
        text: "4.2.0 mailbox busy".into(),
    };
    assert!(!d.is_permanent());
    assert_eq!((d.code(), d.text()), (Some(450), "4.2.0 mailbox busy"));
    assert_eq!(
        d.to_string(),
        "SMTP deferred the message, try again later: 450 4.2.0 mailbox busy"
    );
}
