"""책 ❷(밑바닥부터 시작하는 딥러닝 ❷)의 예제 코드를 import 줄만 바꿔서 tinygrad_ko로 실행하기
위한 호환 모듈입니다.

책의 `common/` 모듈과 `dataset/`의 이름을 같은 이름, 같은 인수와 기본값, 같은 속성 이름으로
제공합니다. import 줄은 다음처럼 바꿉니다.

    from common.layers import MatMul              ->  from tinygrad_ko.book2 import MatMul
    from common.np import *                       ->  from tinygrad_ko.book2 import *
    from common import config                     ->  from tinygrad_ko.book2 import config
    from dataset import ptb                       ->  from tinygrad_ko.book2 import ptb
    from simple_cbow import SimpleCBOW (3장)       ->  from tinygrad_ko.book2.ch03 import SimpleCBOW
    from ch04.negative_sampling_layer import ...  ->  from tinygrad_ko.book2.ch04 import ...

책 ❶의 호환 모듈(tinygrad_ko.book)과 이름이 같아도 인터페이스가 다르므로(Affine의 params와
grads 리스트, 리스트를 받는 옵티마이저, Trainer(model, optimizer)) 따로 둡니다. 계층은
tinygrad_ko의 계층이고(텐서에 호출하면 계산 그래프의 노드가 되고, gradcheck와
check_gradients로 검사할 수 있습니다), 값은 책의 코드와 같습니다. 가중치 초깃값과 미니배치,
부정적 예는 책처럼 np.random에서 뽑으므로 np.random.seed를 같게 주면 같은 결과가 나옵니다.
"""

from __future__ import annotations

import numpy as np

from tinygrad_ko.book2 import config, ptb, sequence, spiral
from tinygrad_ko.book2.base_model import BaseModel
from tinygrad_ko.book2.config import GPU
from tinygrad_ko.book2.functions import cross_entropy_error, relu, sigmoid, softmax
from tinygrad_ko.book2.layers import (
    Affine,
    Dropout,
    Embedding,
    EmbeddingDot,
    MatMul,
    NegativeSamplingLoss,
    Sigmoid,
    SigmoidWithLoss,
    Softmax,
    SoftmaxWithLoss,
    UnigramSampler,
)
from tinygrad_ko.book2.optimizer import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop
from tinygrad_ko.book2.time_layers import (
    GRU,
    LSTM,
    RNN,
    Simple_TimeAffine,
    Simple_TimeSoftmaxWithLoss,
    TimeAffine,
    TimeBiLSTM,
    TimeDropout,
    TimeEmbedding,
    TimeGRU,
    TimeLSTM,
    TimeRNN,
    TimeSigmoidWithLoss,
    TimeSoftmaxWithLoss,
)
from tinygrad_ko.book2.trainer import RnnlmTrainer, Trainer, remove_duplicate
from tinygrad_ko.book2.util import (
    analogy,
    clip_grads,
    convert_one_hot,
    cos_similarity,
    create_co_matrix,
    create_contexts_target,
    eval_perplexity,
    eval_seq2seq,
    most_similar,
    normalize,
    ppmi,
    preprocess,
    to_cpu,
    to_gpu,
)

__all__ = [
    "GPU",
    "GRU",
    "LSTM",
    "RNN",
    "SGD",
    "AdaGrad",
    "Adam",
    "Affine",
    "BaseModel",
    "Dropout",
    "Embedding",
    "EmbeddingDot",
    "MatMul",
    "Momentum",
    "NegativeSamplingLoss",
    "Nesterov",
    "RMSprop",
    "RnnlmTrainer",
    "Sigmoid",
    "SigmoidWithLoss",
    "Simple_TimeAffine",
    "Simple_TimeSoftmaxWithLoss",
    "Softmax",
    "SoftmaxWithLoss",
    "TimeAffine",
    "TimeBiLSTM",
    "TimeDropout",
    "TimeEmbedding",
    "TimeGRU",
    "TimeLSTM",
    "TimeRNN",
    "TimeSigmoidWithLoss",
    "TimeSoftmaxWithLoss",
    "Trainer",
    "UnigramSampler",
    "analogy",
    "clip_grads",
    "config",
    "convert_one_hot",
    "cos_similarity",
    "create_co_matrix",
    "create_contexts_target",
    "cross_entropy_error",
    "eval_perplexity",
    "eval_seq2seq",
    "most_similar",
    "normalize",
    "np",
    "ppmi",
    "preprocess",
    "ptb",
    "relu",
    "remove_duplicate",
    "sequence",
    "sigmoid",
    "softmax",
    "spiral",
    "to_cpu",
    "to_gpu",
]
