"""책 ❷의 common/base_model.py: params를 float16 pickle로 저장하고 불러오는 BaseModel."""

from __future__ import annotations

import pickle

import numpy as np

from tinygrad_ko.data.files import atomic_write, load_pickled_weights

__all__ = ["BaseModel"]


class BaseModel:
    """책의 모델이 물려받는 클래스입니다. save_params는 책처럼 params를 float16 배열의 리스트로
    pickle에 저장하고(책의 load_params가 읽는 파일), load_params는 그런 파일을 tinygrad_ko의
    안전한 pickle 읽기로 읽어 params에 제자리에서 넣습니다. 책과 달리 배열의 개수와 모양을
    확인해서, 다른 모델의 파일이면 어느 배열이 어떻게 다른지 알려 줍니다."""

    def __init__(self):
        self.params, self.grads = None, None

    def forward(self, *args):
        raise NotImplementedError

    def backward(self, *args):
        raise NotImplementedError

    def save_params(self, file_name=None):
        file_name = file_name or type(self).__name__ + ".pkl"
        params = [np.asarray(p).astype(np.float16) for p in self.params]
        with atomic_write(file_name) as f:
            pickle.dump(params, f)

    def load_params(self, file_name=None):
        file_name = file_name or type(self).__name__ + ".pkl"
        loaded = load_pickled_weights(file_name)
        name = type(self).__name__
        if not isinstance(loaded, (list, tuple)) or len(loaded) != len(self.params):
            count = len(loaded) if isinstance(loaded, (list, tuple)) else type(loaded).__name__
            raise ValueError(
                f"{name}.load_params: {file_name} holds {count} arrays, but the model has "
                f"{len(self.params)} parameters"
            )
        for i, (param, array) in enumerate(zip(self.params, loaded)):
            if np.shape(array) != param.shape:
                raise ValueError(
                    f"{name}.load_params: {file_name}: array {i} has shape {np.shape(array)}, "
                    f"but parameter {i} has shape {param.shape}"
                )
        for param, array in zip(self.params, loaded):
            param[...] = np.asarray(array).astype("f")
