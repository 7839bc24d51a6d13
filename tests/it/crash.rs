//! Crashes: recognizers and projectors killed at random moments and restarted lose no attendance
//! and count none twice; the tables equal those of an uninterrupted run over the same frames.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::Utc;
use rollcall::domain::{AttendanceEvent, Frame};
use rollcall::recognize::{RecognizeMode, SharedGallery};
use rollcall::store::Store;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

fn seqs(events: &[AttendanceEvent]) -> Vec<u64> {
    events.iter().map(|e| e.frame_seq).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recognizer_restarted_from_an_earlier_frame_suppresses_what_an_uninterrupted_one_does() {
    let work = tempfile::tempdir().unwrap();
    let open = |name: &str| {
        let url = format!("sqlite://{}?mode=rwc", work.path().join(name).display());
        async move { Store::open(&url, 1).await.unwrap() }
    };
    let (uninterrupted_ledger, restarted_ledger) = (open("a.db").await, open("b.db").await);
    let mut engine = engine();
    let model = engine.model_id().to_owned();
    let obama = template(&mut engine, &face("face_recognition/obama/obama.jpg"));
    let person = rollcall::domain::PersonId::parse("obama").unwrap();
    uninterrupted_ledger
        .enrol(&person, "Obama", &model, &[obama])
        .await
        .unwrap();
    let gallery = SharedGallery::new(
        rollcall::recognize::load_gallery(&uninterrupted_ledger, &model)
            .await
            .unwrap(),
    );

    // Obama in front of the door for 15 s, one frame a second, cooldown 5 s.
    let photo = std::fs::read(face("face_recognition/obama/test_obama1.jpg")).unwrap();
    let frames: Vec<Frame> = (0..15).map(|seq| frame("door", seq, &photo)).collect();

    let uninterrupted = recognize_once(&gallery, Some(&uninterrupted_ledger), &frames).await;
    assert_eq!(seqs(&uninterrupted), vec![0, 5, 10]);

    // A worker dies after frame 7 with offsets committed only up to frame 2; its successor
    // starts again at frame 3.
    let before_crash = recognize_once(&gallery, Some(&restarted_ledger), &frames[..8]).await;
    let after_restart = recognize_once(&gallery, Some(&restarted_ledger), &frames[3..]).await;
    assert_eq!(seqs(&before_crash), vec![0, 5]);
    assert_eq!(
        seqs(&after_restart),
        vec![10],
        "the replayed frames 3-7 must stay suppressed"
    );
    let ids = |events: &[AttendanceEvent]| events.iter().map(|e| e.event_id).collect::<BTreeSet<_>>();
    let mut restarted = ids(&before_crash);
    restarted.extend(ids(&after_restart));
    assert_eq!(restarted, ids(&uninterrupted));

    // Without the ledger the successor would count frames 3, 8 and 13: events that never
    // existed in the uninterrupted run.
    let forgetful = recognize_once(&gallery, None, &frames[3..]).await;
    assert_eq!(seqs(&forgetful), vec![3, 8, 13]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_recognizer_and_projector_at_random_moments_loses_nothing_and_counts_nothing_twice() {
    // Frame mode: every frame is judged alone; restarts lean on the cooldown ledger.
    kill_at_random_and_compare(RecognizeMode::Frame).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_recognizers_while_tracks_are_open_yields_the_events_of_an_uninterrupted_run() {
    // Track mode: a restarted recognizer reads each camera again from its latest anchor.
    kill_at_random_and_compare(RecognizeMode::Track).await;
}

/// Streams frames from three cameras through a recognizer and a projector killed with `kill -9`
/// at random moments (in track mode, recognizers only while tracks are open) and compares the
/// tables with those of an uninterrupted run over the same frames.
async fn kill_at_random_and_compare(mode: RecognizeMode) {
    let seed = std::env::var("ROLLCALL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64 | 1);
    println!("crash test seed: {seed} (ROLLCALL_CRASH_SEED={seed} repeats the schedule of kills)");
    let mut rng = Rng(seed);

    let kafka = TestKafka::start().await;
    let (crash_db, reference_db) = (TestDatabase::create().await, TestDatabase::create().await);
    let work = tempfile::tempdir().unwrap();
    let mut crashing = kafka_config(&kafka, work.path(), &crash_db);
    crashing.recognize.mode = mode;
    // The reference run reads the same frames topic with groups, topics and database of its own.
    let mut reference = kafka_config(&kafka, work.path(), &reference_db);
    reference.recognize.mode = mode;
    reference.kafka.topics.frames = crashing.kafka.topics.frames.clone();
    kafka.create_topics(&crashing, 3).await;
    let t = &reference.kafka.topics;
    for topic in [
        &t.attendance,
        &t.unknown,
        &t.frames_dlq,
        &t.attendance_dlq,
        &t.unknown_dlq,
    ] {
        kafka.create_topic(topic, 3).await;
    }
    let (crash_store, reference_store) = (
        Store::open(&crash_db.url, 2).await.unwrap(),
        Store::open(&reference_db.url, 2).await.unwrap(),
    );
    for store in [&crash_store, &reference_store] {
        enrol(store, &crashing, "obama", "face_recognition/obama/obama.jpg").await;
        enrol(store, &crashing, "biden", "face_recognition/biden/biden.jpg").await;
        enrol(store, &crashing, "kit", "face_recognition/kit_harington/john1.jpeg").await;
        enrol(store, &crashing, "rose", "face_recognition/rose_leslie/img1.jpg").await;
    }

    let stop_reference = CancellationToken::new();
    let reference_recognizer = spawn_recognize(&reference, &stop_reference);
    let reference_projector = spawn_project(&reference, &stop_reference);
    let mut recognizer = spawn_stage(work.path(), &crashing, "recognize", 0);
    let mut projector = spawn_stage(work.path(), &crashing, "project", 0);
    let stream = tokio::spawn(stream_frames(crashing.clone()));

    let log = |name: &str, generation: u32| {
        std::fs::read_to_string(work.path().join(format!("{name}-{generation}.log"))).unwrap_or_default()
    };
    // A stage that exits on its own (bad configuration, a crash of its own) fails the test at once.
    let still_running = |child: &mut std::process::Child, name: &str, generation: u32| {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{name} exited by itself ({status}):\n{}", log(name, generation));
        }
    };
    let (mut recognizer_kills, mut projector_kills, mut kills_in_open_tracks) = (0, 0, 0);
    // How far a stage got in its current life, from its debug log: a kill only tests recovery if
    // the victim had done some work, and most kills should land between two offset commits.
    let progress = |name: &str, generation: u32| {
        let line = if name == "recognize" {
            "frame recognized"
        } else {
            "batch stored"
        };
        log(name, generation).matches(line).count() as u64
    };
    for round in 0..8 {
        // In track mode the first round kills the recognizer inside a track (while the stream
        // still flows), whatever the seed; later rounds are free.
        let victims = match rng.below(3) {
            1 if round == 0 && mode == RecognizeMode::Track => 2,
            victims => victims,
        };
        let frames_first = 1 + rng.below(15);
        let batches_first = 1 + rng.below(4);
        let start = Instant::now();
        loop {
            // In track mode a recognizer is killed while a track is open, where its state is
            // more than what it committed.
            let tracking = mode == RecognizeMode::Track && victims != 1;
            let recognized = victims == 1
                || (progress("recognize", recognizer_kills) >= frames_first
                    && (!tracking || open_tracks(&log("recognize", recognizer_kills)) > 0));
            let projected = victims == 0 || progress("project", projector_kills) >= batches_first;
            // Once the stream is drained nothing moves: kill anyway.
            let patience = Duration::from_secs(if tracking && round == 0 { 30 } else { 8 });
            if (recognized && projected) || start.elapsed() > patience {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        still_running(&mut recognizer, "recognize", recognizer_kills);
        still_running(&mut projector, "project", projector_kills);
        println!(
            "round {round}: kill -9 {} after {} frame(s) and {} batch(es)",
            ["recognizer", "projector", "both"][victims as usize],
            progress("recognize", recognizer_kills),
            progress("project", projector_kills)
        );
        if victims != 1 {
            if open_tracks(&log("recognize", recognizer_kills)) > 0 {
                kills_in_open_tracks += 1;
            }
            recognizer.kill().unwrap();
            recognizer.wait().unwrap();
            recognizer_kills += 1;
            recognizer = spawn_stage(work.path(), &crashing, "recognize", recognizer_kills);
        }
        if victims != 0 {
            projector.kill().unwrap();
            projector.wait().unwrap();
            projector_kills += 1;
            projector = spawn_stage(work.path(), &crashing, "project", projector_kills);
        }
    }
    stream.await.unwrap();
    assert!(
        recognizer_kills > 0 && projector_kills > 0,
        "seed {seed} killed only one stage"
    );
    if mode == RecognizeMode::Track {
        assert!(
            kills_in_open_tracks > 0,
            "seed {seed}: no recognizer was killed inside a track"
        );
    }

    let within = Duration::from_secs(240);
    // Proof that kills landed with work in flight: a restarted recognizer analysed frames its
    // previous life had analysed too (their offsets were not committed yet), or a restarted
    // projector found events already stored (written, not yet committed, when it was killed).
    for config in [&crashing, &reference] {
        let k = &config.kafka;
        for (group, topic) in [
            (&k.recognize_group, &k.topics.frames),
            (&k.project_group, &k.topics.attendance),
        ] {
            assert!(
                wait_until_caught_up(&k.brokers, group, topic, within).await,
                "seed {seed}: group {group} has not committed all of {topic} after {within:?}\n\
                 last recognizer:\n{}\nlast projector:\n{}",
                log("recognize", recognizer_kills),
                log("project", projector_kills)
            );
        }
    }
    // A frame counts as redelivered when any later life analysed it again: the next life may
    // have been killed before it got a partition (its group still waited for the dead member).
    let lives: Vec<BTreeSet<(String, String)>> = (0..=recognizer_kills)
        .map(|life| recognized_offsets(&log("recognize", life)))
        .collect();
    let redelivered_frames: usize = lives
        .iter()
        .enumerate()
        .map(|(life, offsets)| {
            let later: BTreeSet<&(String, String)> = lives[life + 1..].iter().flatten().collect();
            offsets.iter().filter(|offset| later.contains(offset)).count()
        })
        .sum();
    let redelivered_events: u64 = (1..=projector_kills)
        .map(|life| duplicates_stored(&log("project", life)))
        .sum();
    println!("redelivered after kills: {redelivered_frames} frame(s), {redelivered_events} event(s)");
    assert!(
        redelivered_frames + redelivered_events as usize > 0,
        "seed {seed}: no kill landed while work was in flight (nothing was redelivered)"
    );
    let (recognized, projected) = (terminate(recognizer), terminate(projector));
    assert!(recognized.status.success(), "{}", log("recognize", recognizer_kills));
    assert!(projected.status.success(), "{}", log("project", projector_kills));
    stop_reference.cancel();
    let reference_stats = reference_recognizer.await.unwrap().unwrap();
    reference_projector.await.unwrap().unwrap();

    let (crash_events, crash_days) = tables(&crash_store).await;
    let (reference_events, reference_days) = tables(&reference_store).await;
    // The stream must exercise the cooldown, or suppression after a restart is not tested.
    assert_eq!(reference_stats.frames, FRAMES_PER_CAMERA * CAMERAS.len() as u64);
    // A track is decided once, so track mode suppresses repeats of a person only across tracks.
    let (suppressed, events) = match mode {
        RecognizeMode::Frame => (20, 20),
        RecognizeMode::Track => (1, 30),
    };
    assert!(reference_stats.suppressed > suppressed, "{reference_stats:?}");
    assert!(reference_events.len() > events, "{}", reference_events.len());
    let missing: Vec<_> = reference_events.iter().filter(|e| !crash_events.contains(e)).collect();
    let extra: Vec<_> = crash_events.iter().filter(|e| !reference_events.contains(e)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "seed {seed}: lost {missing:#?}, extra {extra:#?}"
    );
    assert_eq!(crash_days, reference_days, "seed {seed}");
    println!(
        "{} events, {} days; {recognizer_kills} recognizer ({kills_in_open_tracks} inside a track) and {projector_kills} projector kills",
        reference_events.len(),
        reference_days.len()
    );
    drop((crash_store, reference_store));
    crash_db.drop_now().await;
    reference_db.drop_now().await;
}

/// The open tracks after the last frame a recognizer's debug log shows it recognized.
fn open_tracks(log: &str) -> u64 {
    log.lines()
        .rev()
        .find(|line| line.contains("frame recognized"))
        .and_then(|line| {
            line.split_whitespace()
                .find_map(|field| field.strip_prefix("open_tracks="))
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The (partition, offset) of every frame a recognizer's debug log shows it recognized.
fn recognized_offsets(log: &str) -> BTreeSet<(String, String)> {
    log.lines()
        .filter(|line| line.contains("frame recognized"))
        .filter_map(|line| {
            let field = |name: &str| {
                line.split_whitespace()
                    .find_map(|f| f.strip_prefix(name))
                    .map(str::to_owned)
            };
            Some((field("partition=")?, field("offset=")?))
        })
        .collect()
}

/// Events a projector's debug log shows it found already stored: redelivered to it.
fn duplicates_stored(log: &str) -> u64 {
    log.lines()
        .filter(|line| line.contains("batch stored"))
        .filter_map(|line| {
            line.split_whitespace()
                .find_map(|f| f.strip_prefix("duplicates="))
                .and_then(|n| n.parse::<u64>().ok())
        })
        .sum()
}
