"""The books' networks, each with the book's interface (params, gradient, numerical_gradient,
predict, loss, accuracy, save_params/load_params) and PyTorch's (parameters(), forward on
tensors, train/eval, save/load).

- network: Network, what every network shares, and Params
- models: TwoLayerNet (chapters 4-5), MultiLayerNet = MultiLayerNetExtend (chapter 6)
- convnets: SimpleConvNet (chapter 7), DeepConvNet (chapter 8)
- word2vec: CBOW in Tensor ops (book 2, chapters 3-4)
- rnn: LSTMLanguageModel, AttentionSeq2seq and lstm_cell in Tensor ops (book 2, chapters 6-8)
"""

from tinygrad_ko.networks.convnets import DeepConvNet, SimpleConvNet
from tinygrad_ko.networks.models import MultiLayerNet, MultiLayerNetExtend, TwoLayerNet
from tinygrad_ko.networks.network import Network, Params
from tinygrad_ko.networks.rnn import AttentionSeq2seq, LSTMLanguageModel, lstm_cell
from tinygrad_ko.networks.word2vec import CBOW

__all__ = [
    "CBOW",
    "AttentionSeq2seq",
    "DeepConvNet",
    "LSTMLanguageModel",
    "MultiLayerNet",
    "MultiLayerNetExtend",
    "Network",
    "Params",
    "SimpleConvNet",
    "TwoLayerNet",
    "lstm_cell",
]
