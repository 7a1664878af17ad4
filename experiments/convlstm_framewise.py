"""Frame-wise baseline for experiments/convlstm_moving_sprites.py: a conv AE, no recurrence.

It trains on the same moving_sprites sequences cut into single 32x32 frames
(``data.moving_sprites.frames=True``), with the same per-frame conv widths and code width as the
ConvLSTM model, but one code per frame rather than per sequence. The sequence evaluation
(``scripts/evaluate.py --workdir RUN --baseline_workdir THIS``) reconstructs each observed frame
with it; having no dynamics, it "predicts" every future frame as its reconstruction of the last
observed one.

  python scripts/train.py --config experiments/convlstm_framewise.py --workdir runs/framewise
"""

import importlib.util
import pathlib

from aejax.defaults import base_config


def _sequence_experiment():
    path = pathlib.Path(__file__).with_name("convlstm_moving_sprites.py")
    spec = importlib.util.spec_from_file_location("convlstm_moving_sprites", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def get_config():
    c = _sequence_experiment().data_config(base_config())  # the same sequences, as frames
    c.data.moving_sprites.frames = True
    c.model.encoder.kind = c.model.decoder.kind = "conv"
    c.model.encoder.channels = (8, 16)
    c.model.decoder.channels = (16, 8)
    c.model.encoder.dense = c.model.decoder.dense = 0
    c.model.latent_dim = 64
    c.model.posterior, c.objective.name = "delta", "reconstruction"
    c.model.likelihood = "bernoulli"
    c.optimizer.learning_rate = 1e-3
    c.train.batch_size = 160  # the frames of 16 sequences, as one ConvLSTM batch
    c.train.num_steps = 800
    c.train.log_every = 100
    c.train.checkpoint_every = 400
    c.train.steps_per_call = 10
    c.train.scan_unroll = 10  # conv steps run ~10x faster unrolled on XLA:CPU (train.scan_unroll)
    c.eval.batch_size = 500
    return c
