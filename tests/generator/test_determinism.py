import json

from simulators.generator import build, dumps, generate, write


def test_same_seed_gives_identical_json():
    a_world, a_truth = generate(11, customers=40)
    b_world, b_truth = generate(11, customers=40)
    assert dumps(a_world) == dumps(b_world)
    assert dumps(a_truth) == dumps(b_truth)


def test_different_seed_gives_different_world():
    assert dumps(generate(11, customers=40)[0]) != dumps(generate(12, customers=40)[0])


def test_now_moves_the_world():
    world, _ = generate(11, customers=20, now="2025-06-30T18:00:00+08:00")
    assert world["meta"]["now"] == "2025-06-30T18:00:00+08:00"
    assert dumps(world) != dumps(generate(11, customers=20)[0])


def test_write_creates_both_files(tmp_path):
    world_path, truth_path = write(tmp_path / "out", seed=5, customers=20)
    assert world_path.name == "world.json" and truth_path.name == "truth.json"
    world = json.loads(world_path.read_text(encoding="utf-8"))
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    expected_world, expected_truth = generate(5, customers=20)
    assert world == expected_world and truth == expected_truth
    # Streamed to disk, yet byte for byte what dumps() gives for the in-memory world.
    assert world_path.read_text(encoding="utf-8") == dumps(expected_world)
    assert truth_path.read_text(encoding="utf-8") == dumps(expected_truth)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["truth.json", "world.json"]
    assert "公司" in world_path.read_text(encoding="utf-8")  # ensure_ascii=False


def test_many_seeds_and_sizes_build():
    # build() raises GeneratorError when the truth differs from the plan.
    for customers in (1, 3, 8, 25, 90):
        for seed in range(12):
            built = build(seed, customers)
            assert len({g[0] for g in built.truth["same_customer"]}) == customers


def test_two_thousand_customers(big_world):
    built = big_world
    assert len(built.truth["same_customer"]) == 2000
    assert len(built.world["crm"]["NewOpportunityObj"]) > 4000


def test_written_files_are_byte_identical_per_seed(tmp_path):
    from simulators.generator import Knobs

    knobs = Knobs(difficulty="hard")
    a = write(tmp_path / "a", seed=9, customers=80, knobs=knobs)
    b = write(tmp_path / "b", seed=9, customers=80, knobs=knobs)
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes()
    c = write(tmp_path / "c", seed=10, customers=80, knobs=knobs)
    assert a[0].read_bytes() != c[0].read_bytes()
