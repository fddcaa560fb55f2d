//! `sotto bench e2e`: spoken commands in, plans out, timed per stage from the end of speech,
//! with the fast path against the planner-only baseline in the same run.
//!
//! What is measured, per utterance, from the moment the utterance's audio is complete (the
//! push-to-talk release; hands-free adds the configured hangover, printed beside the table):
//! the final transcript (the warm `sotto-asr` worker), the tools retrieved, the first plan
//! step parsed, and the plan complete. Tools are not run: the first step parsed is the moment
//! the executor would start the first tool (it dispatches a parsed step in microseconds; the
//! tools' own time is theirs, measured by `sotto do`). Both configurations plan the same
//! transcripts; the transcript stage is measured once and shared.
//!
//! Two more configurations replay each clip in real time as a push-to-talk session hears it:
//! a partial transcript for every second of audio (`speech.partials`), then the final one at
//! the end of speech, decoded again. In the first the partials are only shown (the baseline);
//! in the second each primes the planner while the person is still speaking
//! (`Planner::prepare`: the retrieved example and the words so far put in the worker's KV
//! cache), taking turns with the speech decodes on the cores as the desktop app does.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use serde_json::json;

use super::plan::{builtin_setup, engine, prefix_cache_file};
use super::speech::{peak_rss_mb, percentile, rss_mb};
use crate::app::App;
use crate::engines::asr::{self, AsrEngine};
use crate::engines::lm;
use crate::listener::{partial_options, PARTIAL_EVERY};
use crate::planning::{Planned, Planner};
use crate::speech_sets;
use sotto_protocol::asr::DecodeOptions;

#[derive(Debug, Args)]
pub struct BenchE2eArgs {
    /// How many of the spoken commands (all 48 by default).
    #[arg(long)]
    pub limit: Option<usize>,
    /// The planner model (a catalog id); default: the configured or recommended one.
    #[arg(long)]
    pub model: Option<String>,
    /// Print every utterance's transcript, route (fast path or model) and plan on stderr.
    #[arg(long)]
    pub each: bool,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// One utterance through one configuration, in ms after the end of speech.
#[derive(Debug, Clone)]
struct Timing {
    transcript: f64,
    retrieved: f64,
    first_step: Option<f64>,
    done: f64,
    fast: bool,
    /// Prompt tokens the worker evaluated for the plan (the rest were cached or primed).
    evaluated: u32,
    /// Prompt tokens evaluated while the utterance was spoken, priming on its partials.
    primed: u32,
}

impl Timing {
    /// `planned` after a transcript `transcript` ms after the end of speech, planning from
    /// `planning_from` ms.
    fn of(planned: &Planned, transcript: f64, planning_from: f64, primed: u32) -> Timing {
        let after = |d: Duration| planning_from + ms(d);
        Timing {
            transcript,
            retrieved: after(planned.retrieve),
            first_step: planned.first_step.map(after),
            done: after(planned.total),
            fast: planned.fast_path.is_some(),
            evaluated: planned.prompt_tokens - planned.cached_prompt_tokens,
            primed,
        }
    }

    /// One line for `--each`, on stderr.
    fn print(&self, config: &str, transcript: &str, planned: &Planned) {
        eprintln!(
            "{config:<20} {:>6.0} ms  {:<4} {transcript:?} -> {} ({} prompt tokens evaluated, {} primed)",
            self.first_step.unwrap_or(self.done),
            if self.fast { "fast" } else { "lm" },
            planned.text.trim().replace('\n', "; "),
            self.evaluated,
            self.primed,
        );
    }
}

struct Utterance {
    reference: String,
    transcript: String,
    transcript_ms: f64,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub async fn run(app: &App, args: BenchE2eArgs) -> Result<ExitCode> {
    let scratch = tempfile::tempdir()?;
    let mut clips = speech_sets::spoken_commands(scratch.path())?;
    if let Some(limit) = args.limit {
        clips.truncate(limit.max(1));
    }

    // Hear: the warm worker, as in a session; the first clip warms it outside the measure.
    let asr_id = asr::choose_model(app, None).await?;
    let vad = Some(asr::vad_model_file(app).await?);
    let mut ears = AsrEngine::new(
        asr::model_file(app, &asr_id).await?,
        vad.clone(),
        Duration::from_secs(600),
    );
    let options = asr::live_options(app).await;
    ears.transcribe(clips[0].samples.clone(), options.clone())
        .await?;
    let mut utterances = Vec::with_capacity(clips.len());
    let mut endpoint_checks = Vec::new();
    for clip in &clips {
        // What hands-free listening runs every 200 ms: the VAD over the last 2 s.
        let tail = clip.samples[clip.samples.len().saturating_sub(32_000)..].to_vec();
        let started = Instant::now();
        ears.detect_speech(tail).await?;
        endpoint_checks.push(ms(started.elapsed()));
        let started = Instant::now();
        let transcript = ears
            .transcribe(clip.samples.clone(), options.clone())
            .await?;
        utterances.push(Utterance {
            reference: clip.reference.clone(),
            transcript: transcript.text,
            transcript_ms: ms(started.elapsed()),
        });
    }
    let asr_peak = ears.pid().and_then(peak_rss_mb);

    // Plan: one worker, the prompt cached; the two configurations differ only in whether
    // the tools' templates may answer first.
    let model = lm::choose_model(app, args.model.as_deref()).await?;
    let cached = |fast_path: bool| -> Result<_> {
        let mut setup = builtin_setup()?;
        setup.prefix_cache = Some(prefix_cache_file(app, &model));
        if !fast_path {
            setup.fast_path = Default::default();
        }
        Ok(setup)
    };
    let mut planner = Planner::new(cached(true)?, engine(app, args.model.as_deref()).await?);
    planner.plan("what time is it in Tokyo", |_| {}).await?;
    let mut results: Vec<(&str, Vec<Timing>)> = Vec::new();
    for (name, fast_path) in [("fast path + planner", true), ("planner only", false)] {
        planner.set_setup(cached(fast_path)?);
        let mut timings = Vec::with_capacity(utterances.len());
        for u in &utterances {
            let planned = planner.plan(&u.transcript, |_| {}).await?;
            let timing = Timing::of(&planned, u.transcript_ms, u.transcript_ms, 0);
            if args.each {
                timing.print(name, &u.transcript, &planned);
            }
            timings.push(timing);
        }
        results.push((name, timings));
    }
    // A session with partial transcripts, without and then with priming on them.
    planner.set_setup(cached(true)?);
    for (name, priming) in [
        ("partials, no priming", false),
        ("primed while speaking", true),
    ] {
        let mut timings = Vec::with_capacity(clips.len());
        for clip in &clips {
            let session =
                hear_while_priming(&mut ears, &mut planner, &clip.samples, &options, priming)
                    .await?;
            let timing = Timing::of(
                &session.planned,
                session.transcript_ms,
                session.planning_from,
                session.primed,
            );
            if args.each {
                timing.print(name, &session.transcript, &session.planned);
            }
            timings.push(timing);
        }
        results.push((name, timings));
    }
    let lm_peak = planner.lm().pid().and_then(peak_rss_mb);
    let own_peak = peak_rss_mb(std::process::id());
    let hangover = app.settings.config.speech.hangover_ms;

    // Idle: the workers unloaded (what their idle timeouts do), only the app resident. Then
    // back to ready: a worker started and its model loaded by the next utterance, and the
    // planner's cached prompt read back from disk by the next request.
    drop(ears);
    drop(planner);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle_mb = rss_mb(std::process::id());
    let started = Instant::now();
    let mut ears = AsrEngine::new(
        asr::model_file(app, &asr_id).await?,
        vad,
        Duration::from_secs(600),
    );
    ears.transcribe(clips[0].samples.clone(), options.clone())
        .await?;
    let hear_ready_ms = ms(started.elapsed());
    let started = Instant::now();
    let mut planner = Planner::new(cached(false)?, engine(app, args.model.as_deref()).await?);
    planner.plan(&utterances[0].transcript, |_| {}).await?;
    let plan_ready_ms = ms(started.elapsed());
    drop((ears, planner));

    // Back to ready in a session: both workers stopped, then an utterance the model plans is
    // spoken; its first partial transcript starts the planner (as the desktop's assistant
    // does), so loading overlaps the speech. Timed from the end of speech to the first step.
    let mut ears = AsrEngine::new(
        asr::model_file(app, &asr_id).await?,
        None,
        Duration::from_secs(600),
    );
    let mut planner = Planner::new(cached(true)?, engine(app, args.model.as_deref()).await?);
    let spoken = results[0].1.iter().position(|t| !t.fast).unwrap_or(0);
    let session = hear_while_priming(
        &mut ears,
        &mut planner,
        &clips[spoken].samples,
        &options,
        true,
    )
    .await?;
    let planned = &session.planned;
    let session_ready_ms = session.planning_from + ms(planned.first_step.unwrap_or(planned.total));
    // The same utterance in the warm primed session, for comparison.
    let session_warm_ms = results
        .last()
        .and_then(|(_, t)| t.get(spoken))
        .map_or(f64::NAN, |t| t.first_step.unwrap_or(t.done));
    drop((ears, planner));

    if args.json {
        let configs: Vec<_> = results
            .iter()
            .map(|(name, t)| {
                json!({
                    "config": name,
                    "utterances": t.len(),
                    "fast_path": t.iter().filter(|t| t.fast).count(),
                    "prompt_tokens_evaluated": t.iter().map(|t| t.evaluated).sum::<u32>(),
                    "prompt_tokens_primed": t.iter().map(|t| t.primed).sum::<u32>(),
                    "stages_ms": stage_rows(t).into_iter().map(|(stage, v)| json!({
                        "stage": stage, "n": v.len(),
                        "p50": percentile(&v, 0.5), "p95": percentile(&v, 0.95),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!(
            "{}",
            json!({
                "asr_model": asr_id, "planner_model": model,
                "configs": configs,
                "endpoint_check_ms_p50": percentile(&sorted(endpoint_checks.clone()), 0.5),
                "hangover_ms": hangover,
                "peak_mb": {"sotto": own_peak, "sotto-asr": asr_peak, "sotto-lm": lm_peak},
                "idle_mb": idle_mb,
                "ready_after_idle_ms": {"hear": hear_ready_ms, "plan": plan_ready_ms, "primed_session_first_step": session_ready_ms, "primed_session_first_step_warm": session_warm_ms},
                "transcripts": utterances.iter().map(|u| json!({"reference": u.reference, "transcript": u.transcript})).collect::<Vec<_>>(),
            })
        );
        return Ok(ExitCode::SUCCESS);
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{} spoken commands (espeak-ng voices), {asr_id} (scaled context, greedy), {model}, \
         {threads} cores; ms after the end of speech; tools not run (dry run)\n",
        utterances.len()
    );
    let mut header = format!("{:<34}", "stage");
    let mut names = format!("{:<34}", "");
    for (name, _) in &results {
        header.push_str(&format!(" {:>8} {:>8} {:>5}  ", "p50", "p95", "n"));
        names.push_str(&format!(" {name:>23}  "));
    }
    println!("{}\n{}", header.trim_end(), names.trim_end());
    let rows: Vec<Vec<(&str, Vec<f64>)>> = results.iter().map(|(_, t)| stage_rows(t)).collect();
    for (i, (stage, _)) in rows[0].iter().enumerate() {
        let cell = |v: &Vec<f64>| {
            if v.is_empty() {
                format!("{:>8} {:>8} {:>5}", "-", "-", 0)
            } else {
                format!(
                    "{:>8.0} {:>8.0} {:>5}",
                    percentile(v, 0.5),
                    percentile(v, 0.95),
                    v.len()
                )
            }
        };
        let cells: Vec<String> = rows.iter().map(|r| cell(&r[i].1)).collect();
        println!("{stage:<34} {}", cells.join("   "));
    }
    let fast = results[0].1.iter().filter(|t| t.fast).count();
    println!(
        "\nfast path answered {fast}/{} utterances; hands-free adds the {hangover} ms hangover \
         (speech.hangover_ms) before the end of speech is known; one endpoint check (VAD over \
         2 s) p50 {:.0} ms",
        utterances.len(),
        percentile(&sorted(endpoint_checks), 0.5)
    );
    let mb = |m: Option<f64>| m.map_or("?".into(), |m| format!("{m:.0} MB"));
    println!(
        "peak memory: sotto {}, sotto-asr {}, sotto-lm {}",
        mb(own_peak),
        mb(asr_peak),
        mb(lm_peak)
    );
    println!(
        "idle (workers unloaded): {} resident; back to ready: first transcript {hear_ready_ms:.0} ms, \
         first plan {plan_ready_ms:.0} ms (worker start, model load, cached prompt from disk); \
         primed while speaking, the first step {session_ready_ms:.0} ms after the end of speech \
         ({:?}, the planner started by its first partial; warm: {session_warm_ms:.0} ms)",
        mb(idle_mb),
        utterances[spoken].reference,
    );
    Ok(ExitCode::SUCCESS)
}

/// One utterance through a replayed session.
struct SessionRun {
    transcript: String,
    /// When the final transcript was ready, in ms after the end of speech.
    transcript_ms: f64,
    planned: Planned,
    /// When planning it started, in ms after the end of speech.
    planning_from: f64,
    /// Prompt tokens evaluated while it was spoken, priming on its partials.
    primed: u32,
}

/// What the replayed session's ears tell its planner.
enum Heard {
    Partial(String),
    /// The final transcript, when the end of speech was.
    Final(String, Instant),
}

/// One utterance through a session that overlaps its stages, replayed in real time: the
/// speech worker makes a partial transcript for every [`PARTIAL_EVERY`] of audio and the
/// final one at the end of speech, one after the other as the listener does; meanwhile the
/// planner primes on the newest partial it has not seen (as the desktop's assistant does)
/// and plans the final transcript as soon as it has it and is free. Both workers run at once
/// and take turns on the cores as the app's do. Without `priming`, the partials are only shown,
/// as before priming existed: the baseline for it.
async fn hear_while_priming(
    ears: &mut AsrEngine,
    planner: &mut Planner,
    samples: &[i16],
    options: &DecodeOptions,
    priming: bool,
) -> Result<SessionRun> {
    let (tell, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let hearing = async move {
        let every = (PARTIAL_EVERY.as_secs_f64() * 16_000.0) as usize;
        let started = Instant::now();
        let at = |n: usize| started + Duration::from_secs_f64(n as f64 / 16_000.0);
        let mut so_far = every;
        while so_far < samples.len() {
            tokio::time::sleep_until(at(so_far).into()).await;
            let partial = ears
                .transcribe(samples[..so_far].to_vec(), partial_options(options))
                .await?;
            let _ = tell.send(Heard::Partial(partial.text));
            so_far += every;
        }
        let end_of_speech = at(samples.len());
        tokio::time::sleep_until(end_of_speech.into()).await;
        let transcript = ears.transcribe(samples.to_vec(), options.clone()).await?;
        let transcript_ms = ms(end_of_speech.elapsed());
        let _ = tell.send(Heard::Final(transcript.text, end_of_speech));
        anyhow::Ok(transcript_ms)
    };
    let planning = async {
        let mut primed = 0;
        loop {
            let Some(mut news) = heard.recv().await else {
                anyhow::bail!("the replayed session ended without a final transcript");
            };
            // Only the newest partial is worth priming; the final one always comes last.
            while let Ok(newer) = heard.try_recv() {
                news = newer;
            }
            match news {
                Heard::Partial(text) => {
                    if priming {
                        if let Some(report) = planner.prepare(&text).await? {
                            primed += report.evaluated;
                        }
                    }
                }
                Heard::Final(text, end_of_speech) => {
                    let waited = ms(end_of_speech.elapsed());
                    let planned = planner.plan(&text, |_| {}).await?;
                    return anyhow::Ok((text, planned, waited, primed));
                }
            }
        }
    };
    let (transcript_ms, (transcript, planned, planning_from, primed)) =
        tokio::try_join!(hearing, planning)?;
    Ok(SessionRun {
        transcript,
        transcript_ms,
        planned,
        planning_from,
        primed,
    })
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// Each stage's sorted latencies over `timings`.
fn stage_rows(timings: &[Timing]) -> Vec<(&'static str, Vec<f64>)> {
    let column = |f: &dyn Fn(&Timing) -> Option<f64>, only: &dyn Fn(&Timing) -> bool| {
        sorted(timings.iter().filter(|t| only(t)).filter_map(f).collect())
    };
    let all = |_: &Timing| true;
    vec![
        ("transcript final", column(&|t| Some(t.transcript), &all)),
        ("tools retrieved", column(&|t| Some(t.retrieved), &all)),
        (
            "first step = first tool start",
            column(&|t| t.first_step, &all),
        ),
        (
            "  on fast-path commands",
            column(&|t| t.first_step, &|t| t.fast),
        ),
        (
            "  on planner commands",
            column(&|t| t.first_step, &|t| !t.fast),
        ),
        ("plan complete", column(&|t| Some(t.done), &all)),
    ]
}
