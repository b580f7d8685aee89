"""Run a shipped ONNX policy behind the engine's `Policy` protocol, so the game's NPCs act through it.

Each file takes `obs` (batch, OBS_SIZE) float32, laid out as `agents.observation` documents, and returns
`logits` (batch, 5) over stay, up, down, left, right; the greedy action is their argmax. Any ONNX runtime can
run them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from agents.memory import MAX_FRAMES, ObservationHistory
from agents.observation import OBS_SIZE, encode
from engine.errors import FileFormatError
from engine.outside import read_outside
from engine.sim.policy import SCRIPTED_POLICIES, Action, NpcObservation, Policy, Role
from engine.sim.world import Npc

POLICY_DIR = Path(__file__).parent
TRAINED_ROLES = (Role.HUNTER, Role.GUARD, Role.COMPANION)
_ACTIONS = (Action.NOOP, Action.UP, Action.DOWN, Action.LEFT, Action.RIGHT)


class PolicyFileError(FileFormatError):
    """A policy file that is missing, unreadable, or not the model the game expects (its inputs, outputs and
    what it computes)."""

    def __init__(self, path: str | Path, field: str, message: str = "") -> None:
        if not message:  # PolicyFileError(path, message): a problem with the file as a whole
            field, message = "file", field
        super().__init__(path, field, message)


MAX_POLICY_BYTES = 32 * 1024 * 1024
"""the shipped policies are at most 1.5 MB; a policy is read whole before onnxruntime parses it"""


def checked_session(path: Path, n_outputs: int, input_problem: Callable[[int], str | None], hint: str):
    """An onnxruntime session for the policy file at `path`, read by the outside-data rule (engine.outside) and
    checked: only the ops an MLP uses (ALLOWED_OPS), one float32 input of shape (batch, width) with
    `input_problem(width)` None, one output, and probes (zeros, a batch of two) that give finite
    (batch, `n_outputs`) logits. Anything else is a PolicyFileError, never onnxruntime's
    own exception types (so the game can fall back to scripted NPCs)."""
    import onnxruntime as ort

    if not path.exists() and not path.is_symlink():
        raise PolicyFileError(path, f"no such policy file ({hint})")
    blob = read_outside(path, limit=MAX_POLICY_BYTES, error=PolicyFileError)
    _check_graph(path, blob)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # one small MLP per decision: threads cost more than they save
    try:
        session = ort.InferenceSession(blob, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own types (InvalidProtobuf, Fail, ...) for a bad file
        raise PolicyFileError(path, f"not a readable ONNX model ({str(exc)[:200]})") from None
    inputs, outputs = session.get_inputs(), session.get_outputs()
    shape = inputs[0].shape if len(inputs) == 1 else None
    width = shape[-1] if shape is not None and len(shape) == 2 else None
    if not isinstance(width, int) or inputs[0].type != "tensor(float)":
        got = [(i.type, i.shape) for i in inputs]
        raise PolicyFileError(
            path, "inputs", f"expected one float32 input of shape (batch, width), got {got}"
        )
    if (problem := input_problem(width)) is not None:
        raise PolicyFileError(path, "inputs", problem)
    if len(outputs) != 1:
        raise PolicyFileError(path, "outputs", f"expected one output (the logits), got {len(outputs)}")
    # Probes: zeros, and observation-like inputs (a batch of two, in [0, 1]), which must all give finite
    # (batch, n_outputs) logits.
    probes = {"a zero input": np.zeros((1, width), np.float32)}
    probes["a batch of two"] = np.random.default_rng(0).random((2, width), dtype=np.float32)
    for what, x in probes.items():
        try:
            probe = np.asarray(session.run(None, {inputs[0].name: x})[0])
        except Exception as exc:  # a graph that loads but cannot run on its declared input
            raise PolicyFileError(path, "outputs", f"the model fails on {what} ({str(exc)[:200]})") from None
        if probe.shape != (len(x), n_outputs) or not np.issubdtype(probe.dtype, np.floating):
            raise PolicyFileError(
                path,
                "outputs",
                f"expected (batch, {n_outputs}) float logits, got {probe.dtype} {probe.shape}",
            )
        if not np.isfinite(probe).all():
            raise PolicyFileError(path, "outputs", f"the logits on {what} are not finite (NaN weights?)")
    return session


ALLOWED_OPS = frozenset(
    {"Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Neg", "Relu", "LeakyRelu", "Elu", "Tanh", "Sigmoid"}
    | {"Softmax", "LogSoftmax", "Clip", "Identity", "Flatten", "Concat", "Constant"}
)
"""what an MLP policy is made of: no loops, no ops whose output size comes from data (a 14 KB Loop or
ConstantOfShape model can hang the load or ask for gigabytes)"""


def _check_graph(path: Path, blob: bytes) -> None:
    import onnx

    try:
        model = onnx.load_from_string(blob)
    except Exception as exc:  # onnx raises DecodeError and others for a corrupt file
        raise PolicyFileError(path, f"not a readable ONNX model ({str(exc)[:200]})") from None
    for node in model.graph.node:
        if node.op_type not in ALLOWED_OPS or node.domain not in ("", "ai.onnx"):
            name = f"{node.domain}.{node.op_type}" if node.domain else node.op_type
            allowed = ", ".join(sorted(ALLOWED_OPS))
            raise PolicyFileError(
                path, "graph", f"op {name} is not one an MLP policy uses (allowed: {allowed})"
            )
    _check_sizes(path, model)


SEED_DIR = POLICY_DIR / "seeds"
"""the shipped policies' sibling runs: the same command at other training seeds (<name>_seed<N>.onnx + .json),
which the evaluations aggregate over; the game plays the shipped seed only"""


def policy_path(role: Role | str) -> Path:
    return POLICY_DIR / f"{Role(role).value}.onnx"


def sibling_seeds(name: str) -> list[Path]:
    """The sibling runs of the shipped policy `name` (a role or "narrator"), in seed order."""
    runs = {}
    for path in SEED_DIR.glob(f"{name}_seed*.onnx"):
        seed = path.stem.removeprefix(f"{name}_seed")
        if seed.isdigit():
            runs[int(seed)] = path
    return [runs[seed] for seed in sorted(runs)]


def memory_variants(role: Role | str) -> dict[str, list[Path]]:
    """The role's trained variants with memory (agents.memory), beside the shipped policy, each with its sibling
    seeds: variant name ("hunter_memory4") → [its seed-1 run, *siblings]. The game plays the shipped policy; the
    evaluation compares every variant with it and with the strongest baseline."""
    role = Role(role)
    found = sorted(POLICY_DIR.glob(f"{role.value}_memory*.onnx"))
    return {
        p.stem: [p, *sibling_seeds(p.stem)]
        for p in found
        if p.stem.removeprefix(f"{role.value}_memory").isdigit()
    }


def policy_card(role: Role | str) -> dict[str, Any]:
    return json.loads(policy_path(role).with_suffix(".json").read_text())


def _frames_problem(width: int) -> str | None:
    if width % OBS_SIZE or not 1 <= width // OBS_SIZE <= MAX_FRAMES:
        return f"expected an input of shape (batch, frames * {OBS_SIZE}) with 1..{MAX_FRAMES} frames, got {width}"
    return None


@cache
def _session(path: Path):
    hint = "train one with `ludoforge train npc --role ...`"
    return checked_session(path, len(_ACTIONS), _frames_problem, hint)


class OnnxPolicy:
    """An engine `Policy` backed by an ONNX file: greedy over the logits. A policy with memory (`frames` > 1,
    agents.memory) keeps its NPC's recent observations; one instance serves one NPC, and a tick that does not
    move forward means a new episode, so it forgets."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._session = _session(self.path)
        self._input = self._session.get_inputs()[0].name
        self.frames = self._session.get_inputs()[0].shape[-1] // OBS_SIZE
        self._history = ObservationHistory(1, self.frames)
        self._last_tick = -1
        self.problem: str | None = None
        """set when the file gave non-finite logits during play (the NPC then stays put)"""

    def logits(self, observations: np.ndarray) -> np.ndarray:
        """(batch, 5) logits for (batch, frames * OBS_SIZE) policy inputs (agents.memory)."""
        return self._session.run(None, {self._input: np.asarray(observations, np.float32)})[0]

    def act(self, observation: NpcObservation) -> Action:
        if observation.tick <= self._last_tick:
            self._history.clear()
        self._last_tick = observation.tick
        stacked = self._history.push(encode(observation)[None])
        logits = self.logits(stacked)[0]
        if not np.isfinite(logits).all():  # a file that passed the load probes but fails on this input
            self.problem = f"{self.path}: non-finite logits at tick {observation.tick}; the NPC stays put"
            return Action.NOOP
        return _ACTIONS[int(logits.argmax())]


def trained_policies(npc: Npc) -> Policy:
    """The game's policy table: the shipped trained policy for hunters, guards and companions; villagers keep
    their scripted wander."""
    if npc.role in TRAINED_ROLES:
        return OnnxPolicy(policy_path(npc.role))
    return SCRIPTED_POLICIES[npc.role]()


MAX_TENSOR_ELEMENTS = 2**21
"""per tensor, per observation: the largest in a shipped policy is a 5,376 x 128 weight (8 frames)"""
MAX_NODES = 256
"""a shipped policy has 5 nodes; 50,000 cheap ones take seconds to load"""
MAX_WORK = 2**24
"""multiply-adds per decision: a shipped policy needs about 0.36 M (0.7 M with 8 frames); a chain of 60
(1344 x 1344) MatMuls, each within the tensor bound, needed 2.5 s a decision"""


def _check_sizes(path: Path, model: Any) -> None:
    """Every tensor's size known from the file, before anything runs: shape inference with the batch as 1, and
    none over MAX_TENSOR_ELEMENTS (a 15 KB file of doubling Concats can otherwise ask for gigabytes, or make the
    load's constant folding run for minutes)."""
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except Exception as exc:  # inconsistent shapes, unknown ops
        raise PolicyFileError(path, "graph", f"its tensor shapes do not check ({str(exc)[:200]})") from None
    graph = inferred.graph
    sized = {t.name: list(t.dims) for t in graph.initializer}
    for info in [*graph.input, *graph.value_info, *graph.output]:
        shape = info.type.tensor_type.shape
        # a named (symbolic) dimension is the batch; a dimension with neither a value nor a name is unknown
        dims = [
            d.dim_value if d.HasField("dim_value") else 1 if d.HasField("dim_param") else -1
            for d in shape.dim
        ]
        sized[info.name] = dims if info.type.tensor_type.HasField("shape") else [-1]
    if len(graph.node) > MAX_NODES:
        raise PolicyFileError(
            path, "graph", f"{len(graph.node):,} nodes; an MLP policy has at most {MAX_NODES}"
        )
    work = 0  # multiply-adds per observation, over every MatMul and Gemm
    for node in graph.node:
        if node.op_type in ("MatMul", "Gemm") and node.input[0] in sized and node.output[0] in sized:
            a_dims = sized[node.input[0]]
            trans_a = any(att.name == "transA" and att.i for att in node.attribute)
            inner = a_dims[-2] if node.op_type == "Gemm" and trans_a and len(a_dims) >= 2 else a_dims[-1]
            work += int(np.prod(sized[node.output[0]], dtype=np.float64)) * max(inner, 1)
    if work > MAX_WORK:
        raise PolicyFileError(
            path, "graph", f"{work:,} multiply-adds per decision; an MLP policy needs at most {MAX_WORK:,}"
        )
    for node in graph.node:
        for name in node.output:
            dims = sized.get(name, [-1])
            if any(d < 0 for d in dims):
                raise PolicyFileError(
                    path, "graph", f"the size of {name!r} ({node.op_type}) is not known from the file"
                )
            if int(np.prod(dims, dtype=np.float64)) > MAX_TENSOR_ELEMENTS:
                raise PolicyFileError(
                    path,
                    "graph",
                    f"{name!r} ({node.op_type}) has shape {dims}: more than {MAX_TENSOR_ELEMENTS:,} elements",
                )
