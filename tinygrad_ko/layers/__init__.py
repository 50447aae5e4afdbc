"""Every layer of the books in one place, each a node of the graph with the book's own backward
rule, usable the book's way (forward/backward on arrays) and on tensors:

    from tinygrad_ko.layers import Affine, ReLU, Convolution, Pooling, BatchNormalization

- basic: Affine, MatMul, ReLU (Relu), Sigmoid, SoftmaxWithLoss, SigmoidWithLoss (book 1, ch. 5)
- conv: Convolution, Pooling, im2col/col2im (and as ops Im2col, Col2im) (book 1, ch. 7)
- normalization: BatchNormalization, Dropout (book 1, ch. 6)
- embedding: Embedding, EmbeddingDot, NegativeSamplingLoss, UnigramSampler (book 2, ch. 3-4)
- recurrent: RNN, GRU and the Time layers (book 2, ch. 5-7)
- attention: WeightSum, AttentionWeight, Attention, TimeAttention (book 2, ch. 8)
"""

from tinygrad_ko.layers.attention import Attention, AttentionWeight, TimeAttention, WeightSum
from tinygrad_ko.layers.basic import (
    Affine,
    MatMul,
    ReLU,
    Relu,
    Sigmoid,
    SigmoidWithLoss,
    SoftmaxWithLoss,
)
from tinygrad_ko.layers.conv import (
    Col2im,
    Convolution,
    Im2col,
    Pooling,
    col2im,
    conv_output_size,
    im2col,
)
from tinygrad_ko.layers.embedding import (
    Embedding,
    EmbeddingDot,
    NegativeSamplingLoss,
    UnigramSampler,
)
from tinygrad_ko.layers.normalization import BatchNormalization, Dropout
from tinygrad_ko.layers.recurrent import (
    GRU,
    RNN,
    TimeAffine,
    TimeDropout,
    TimeEmbedding,
    TimeGRU,
    TimeLSTM,
    TimeRNN,
    TimeSoftmaxWithLoss,
)

__all__ = [
    "GRU",
    "RNN",
    "Affine",
    "Attention",
    "AttentionWeight",
    "BatchNormalization",
    "Col2im",
    "Convolution",
    "Dropout",
    "Embedding",
    "EmbeddingDot",
    "Im2col",
    "MatMul",
    "NegativeSamplingLoss",
    "Pooling",
    "ReLU",
    "Relu",
    "Sigmoid",
    "SigmoidWithLoss",
    "SoftmaxWithLoss",
    "TimeAffine",
    "TimeAttention",
    "TimeDropout",
    "TimeEmbedding",
    "TimeGRU",
    "TimeLSTM",
    "TimeRNN",
    "TimeSoftmaxWithLoss",
    "UnigramSampler",
    "WeightSum",
    "col2im",
    "conv_output_size",
    "im2col",
]
