"""책 ❷의 common/util.py: 말뭉치 전처리, 동시발생 행렬, PPMI, 코사인 유사도, 유사 단어와
유추 문제, 맥락과 타깃, 원-핫 표현, 기울기 클리핑, 퍼플렉서티와 seq2seq 평가.

값은 책의 코드와 같습니다. 책이 파이썬 반복문으로 원소마다 계산하는 곳(동시발생 행렬, PPMI,
맥락과 타깃, 원-핫)은 같은 연산을 배열 전체에 한 번에 해서 PTB 크기의 말뭉치에서도 빠릅니다.
"""

from __future__ import annotations

import os
import sys

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "analogy",
    "clip_grads",
    "convert_one_hot",
    "cos_similarity",
    "create_co_matrix",
    "create_contexts_target",
    "eval_perplexity",
    "eval_seq2seq",
    "most_similar",
    "normalize",
    "ppmi",
    "preprocess",
    "to_cpu",
    "to_gpu",
]


def preprocess(text):
    """문장을 소문자 단어로 나누고(마침표도 한 단어) 단어 ID를 매깁니다(2.3.1).
    (corpus, word_to_id, id_to_word)를 돌려줍니다. ID는 처음 나온 순서입니다."""
    words = text.lower().replace(".", " .").split(" ")
    word_to_id = {}
    for word in words:
        word_to_id.setdefault(word, len(word_to_id))
    id_to_word = {i: word for word, i in word_to_id.items()}
    return np.array([word_to_id[w] for w in words]), word_to_id, id_to_word


def cos_similarity(x, y, eps=1e-8):
    """코사인 유사도(2.3.5): x·y / (‖x‖‖y‖). eps는 0으로 나누지 않게 더하는 작은 값입니다."""
    nx = x / (np.sqrt(np.sum(x**2)) + eps)
    ny = y / (np.sqrt(np.sum(y**2)) + eps)
    return np.dot(nx, ny)


def most_similar(query, word_to_id, id_to_word, word_matrix, top=5):
    """query와 코사인 유사도가 가장 높은 단어 top개를 출력합니다(2.3.6)."""
    if query not in word_to_id:
        print(f"{query}(을)를 찾을 수 없습니다.")
        return
    print("\n[query] " + query)
    query_vec = word_matrix[word_to_id[query]]
    rows = word_matrix[: len(id_to_word)]
    similarity = np.array([cos_similarity(row, query_vec) for row in rows], dtype=np.float64)
    shown = 0
    for i in (-1 * similarity).argsort():
        if id_to_word[i] == query:
            continue
        print(f" {id_to_word[i]}: {similarity[i]}")
        shown += 1
        if shown >= top:
            return


def convert_one_hot(corpus, vocab_size):
    """단어 ID(1차원 또는 2차원 배열)를 원-핫 표현(int32)으로 바꿉니다(3.1.3)."""
    corpus = np.asarray(corpus)
    one_hot = np.zeros((*corpus.shape, vocab_size), dtype=np.int32)
    np.put_along_axis(one_hot, corpus[..., None], 1, axis=-1)
    return one_hot


def create_co_matrix(corpus, vocab_size, window_size=1):
    """동시발생 행렬(2.3.4): 단어마다 좌우 window_size 단어 안에 나온 단어의 횟수(int32)."""
    corpus = np.asarray(corpus)
    co_matrix = np.zeros((vocab_size, vocab_size), dtype=np.int32)
    for distance in range(1, window_size + 1):
        left, right = corpus[:-distance], corpus[distance:]
        np.add.at(co_matrix, (right, left), 1)  # 오른쪽 단어의 왼쪽 맥락
        np.add.at(co_matrix, (left, right), 1)  # 왼쪽 단어의 오른쪽 맥락
    return co_matrix


def ppmi(C, verbose=False, eps=1e-8):
    """양의 상호정보량(PPMI) 행렬(2.4.1): max(0, log₂(C·N / (S_i·S_j) + eps)), float32.
    verbose=True이면 책처럼 1%마다 진행 상황을 출력합니다."""
    C = np.asarray(C)
    M = np.zeros_like(C, dtype=np.float32)
    N = np.sum(C)
    S = np.sum(C, axis=0)
    rows = max(1, (1 << 24) // max(C.shape[1], 1))  # 한 번에 이만큼의 행: 임시 배열이 작게
    for start in range(0, C.shape[0], rows):
        block = slice(start, start + rows)
        pmi = np.log2(C[block] * N / (S[None, :] * S[block, None]) + eps)
        np.fmax(pmi, 0, out=pmi)  # as the book's max(0, pmi): NaN (a word seen with none) is 0
        M[block] = pmi
    if verbose:
        total = C.shape[0] * C.shape[1]
        for count in range(total // 100 + 1, total + 1, total // 100 + 1):
            print(f"{100 * count / total:.1f}% 완료")
    return M


def create_contexts_target(corpus, window_size=1):
    """맥락과 타깃(3.3.1): 양 끝을 뺀 단어마다 좌우 window_size 단어가 맥락, 그 단어가 타깃."""
    corpus = np.asarray(corpus)
    windows = sliding_window_view(corpus, 2 * window_size + 1)
    contexts = np.delete(windows, window_size, axis=1)  # 가운데(타깃)를 뺀 새 배열
    return contexts, np.array(corpus[window_size:-window_size])


def to_cpu(x):
    """책에서는 GPU(CuPy) 배열을 NumPy 배열로 바꿉니다. tinygrad_ko는 NumPy만 쓰므로 그대로
    돌려줍니다."""
    return x


def to_gpu(x):
    """책에서는 NumPy 배열을 GPU(CuPy) 배열로 바꿉니다. tinygrad_ko는 NumPy만 쓰므로 그대로
    돌려줍니다(config.GPU = True여도 CPU에서 계속합니다)."""
    return x


def clip_grads(grads, max_norm):
    """기울기 클리핑(6.1.4): 모든 기울기의 L2 노름이 max_norm을 넘으면 max_norm이 되도록
    모든 기울기를 제자리에서 같은 비율로 줄입니다."""
    total_norm = 0
    for grad in grads:
        total_norm += np.sum(grad**2)
    rate = max_norm / (np.sqrt(total_norm) + 1e-6)
    if rate < 1:
        for grad in grads:
            grad *= rate


def eval_perplexity(model, corpus, batch_size=10, time_size=35):
    """말뭉치에 대한 모델의 퍼플렉서티(5.2.3): 다음 단어 예측의 평균 손실의 exp."""
    print("퍼플렉서티 평가 중 ...")
    corpus = np.asarray(corpus)
    corpus_size = len(corpus)
    total_loss = 0
    max_iters = (corpus_size - 1) // (batch_size * time_size)
    jump = (corpus_size - 1) // batch_size
    for iters in range(max_iters):
        starts = iters * time_size + np.arange(batch_size)[:, None] * jump
        positions = starts + np.arange(time_size)
        xs = corpus[positions % corpus_size].astype(np.int32)
        ts = corpus[(positions + 1) % corpus_size].astype(np.int32)
        try:
            loss = model.forward(xs, ts, train_flg=False)
        except TypeError:
            loss = model.forward(xs, ts)
        total_loss += loss
        sys.stdout.write(f"\r{iters} / {max_iters}")
        sys.stdout.flush()
    print("")
    return np.exp(total_loss / max_iters)


def eval_seq2seq(model, question, correct, id_to_char, verbos=False, is_reverse=False):
    """seq2seq 모델이 question에 correct를 생성하면 1, 아니면 0(7.3.3). verbos=True이면
    문제와 정답, 생성한 답을 출력합니다(맞으면 ☑, 틀리면 ☒)."""
    correct = correct.flatten()
    start_id, correct = correct[0], correct[1:]
    guess = model.generate(question, start_id, len(correct))
    question = "".join(id_to_char[int(c)] for c in question.flatten())
    correct = "".join(id_to_char[int(c)] for c in correct)
    guess = "".join(id_to_char[int(c)] for c in guess)
    if verbos:
        if is_reverse:
            question = question[::-1]
        print("Q", question)
        print("T", correct)
        windows = os.name == "nt"
        if correct == guess:
            print(("O" if windows else "\033[92m☑\033[0m") + " " + guess)
        else:
            print(("X" if windows else "\033[91m☒\033[0m") + " " + guess)
        print("---")
    return 1 if guess == correct else 0


def analogy(a, b, c, word_to_id, id_to_word, word_matrix, top=5, answer=None):
    """유추 문제(4.4.2) a:b = c:?를 b - a + c에 가까운 단어로 풀어 top개를 출력합니다."""
    for word in (a, b, c):
        if word not in word_to_id:
            print(f"{word}(을)를 찾을 수 없습니다.")
            return
    print("\n[analogy] " + a + ":" + b + " = " + c + ":?")
    a_vec, b_vec, c_vec = (word_matrix[word_to_id[w]] for w in (a, b, c))
    query_vec = normalize(b_vec - a_vec + c_vec)
    similarity = np.dot(word_matrix, query_vec)
    if answer is not None:
        print("==>" + answer + ":" + str(np.dot(word_matrix[word_to_id[answer]], query_vec)))
    shown = 0
    for i in (-1 * similarity).argsort():
        if np.isnan(similarity[i]) or id_to_word[i] in (a, b, c):
            continue
        print(f" {id_to_word[i]}: {similarity[i]}")
        shown += 1
        if shown >= top:
            return


def normalize(x):
    """벡터(또는 행마다)를 길이 1로 제자리에서 나누고 돌려줍니다."""
    if x.ndim == 2:
        s = np.sqrt((x * x).sum(1))
        x /= s.reshape((s.shape[0], 1))
    elif x.ndim == 1:
        s = np.sqrt((x * x).sum())
        x /= s
    return x
