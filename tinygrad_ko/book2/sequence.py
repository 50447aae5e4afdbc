"""책 ❷의 dataset/sequence.py: 7.2.4절(덧셈 데이터셋)의 addition.txt와 8.3.1절(날짜 형식 변환
문제)의 date.txt 같은 시계열 변환 데이터를 읽습니다.

책처럼 문자 어휘(char_to_id, id_to_char)는 모듈에 하나씩 있고, 파일을 읽을 때마다 처음 나온
문자가 덧붙습니다. 파일은 패키지 옆이 아니라 tinygrad_ko의 데이터 폴더에 둡니다.
$TINYGRAD_KO_DATA가 있으면 그 폴더(파일이 바로 들어 있을 때) 또는 그 안의 sequence/, 없으면 사용자
캐시(~/.cache/tinygrad_ko/sequence, XDG_CACHE_HOME을 따릅니다)입니다. 책의 파일(addition.txt,
date.txt)이 없으면 $TINYGRAD_KO_OFFLINE이 없을 때만 책의 저장소에서 내려받아, 책의 파일과 같은지
(SHA-256) 확인한 다음에야 제 이름으로 둡니다.
"""

from __future__ import annotations

import hashlib
import itertools
import os

import numpy as np

from tinygrad_ko.book2 import download

__all__ = ["get_vocab", "load_data"]

URL_BASE = "https://raw.githubusercontent.com/WegraLee/deep-learning-from-scratch-2/master/dataset/"
BOOK_FILES = {  # 책의 저장소에 있는 파일: (바이트 수, SHA-256)
    "addition.txt": (650_000, "34e0746f5014c11311c9452ee9050bf14e38eca44ec4aaf4d81eba2b38674009"),
    "date.txt": (2_050_000, "62e66a301ce8537868e725512d2a45663fc366526b7e42028cb703bda2b1c79a"),
}

id_to_char = {}
char_to_id = {}


def _check_download(name, data):
    """Accept only the book's own file, byte for byte."""
    size, sha256 = BOOK_FILES[name]
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        what = (
            "an HTML page"
            if data.lstrip()[:15].lower().startswith((b"<!doctype", b"<html"))
            else ""
        )
        raise download.Refused(
            f"is {what or 'not the book file'} ({len(data)} bytes with SHA-256 {digest[:16]}..., "
            f"expected the {size} bytes of the book's {name} with {sha256[:16]}...)"
        )


def _path(file_name):
    folder = download.data_folder("sequence", [file_name])
    path = folder / file_name
    if path.is_file():
        return path
    if file_name not in BOOK_FILES:
        problem = f"it is not one of the book's files ({', '.join(BOOK_FILES)}) to download"
    elif os.environ.get("TINYGRAD_KO_OFFLINE"):
        problem = "downloads are switched off (TINYGRAD_KO_OFFLINE is set)"
    else:
        try:
            size = BOOK_FILES[file_name][0]
            download.fetch_all(URL_BASE, folder, [file_name], size, _check_download)
            return path
        except OSError as error:
            problem = str(error)
    where = f"{folder} ({download.source()})"
    raise FileNotFoundError(
        f"sequence.load_data: {where} does not hold {file_name}; {problem}.\n"
        f"Put the file there (the book's are in dataset/ of its repository: "
        f"{URL_BASE}addition.txt and {URL_BASE}date.txt), or set TINYGRAD_KO_DATA to a folder "
        f"holding {file_name} or holding sequence/ with it."
    )


def _read(path):
    """The questions and answers of each line, split before '_' (the answer keeps it, as the
    book's does), checked to be all of one width each as the arrays need."""
    questions, answers = [], []
    try:
        with open(path, encoding="utf-8") as f:  # text mode: \r\n reads as \n, as in the book
            for number, line in enumerate(f, 1):
                at = line.find("_")
                if at < 0:
                    raise ValueError(
                        f"sequence.load_data: line {number} of {path} has no '_' between the "
                        "question and the answer"
                    )
                questions.append(line[:at])
                answers.append(line[at:].removesuffix("\n"))
                widths = len(questions[0]), len(answers[0])
                if (len(questions[-1]), len(answers[-1])) != widths:
                    raise ValueError(
                        f"sequence.load_data: line {number} of {path} has a question of "
                        f"{len(questions[-1])} and an answer of {len(answers[-1])} characters, "
                        f"line 1 of {widths[0]} and {widths[1]}; every line must be padded to the "
                        "same widths"
                    )
    except UnicodeDecodeError as error:
        raise ValueError(f"sequence.load_data: {path} is not a text file ({error})") from None
    if not questions:
        raise ValueError(f"sequence.load_data: {path} is empty")
    return questions, answers


def load_data(file_name="addition.txt", seed=1984):
    """file_name의 문제와 답을 ((x_train, t_train), (x_test, t_test))로 돌려줍니다(7.2.4절).

    줄마다 '_' 앞이 문제, '_'부터 줄 끝까지가 답입니다. 처음 나온 문자에 책과 같은 순서로 ID를
    매겨 어휘에 덧붙이고(get_vocab), 문자를 ID로 바꾼 int 배열을 만듭니다. seed가 None이 아니면
    책처럼 np.random.seed(seed)를 부른 다음 np.random.shuffle로 섞고, 끝의 10%를 시험 데이터로
    나눕니다. 파일이 없으면 책처럼 None을 돌려주지 않고 FileNotFoundError를 냅니다.
    """
    questions, answers = _read(_path(file_name))

    # 어휘: 문제, 답, 다음 줄의 문제, ... 순서로 처음 나온 문자에 ID를 매깁니다
    for c in dict.fromkeys("".join(itertools.chain.from_iterable(zip(questions, answers)))):
        if c not in char_to_id:
            char_to_id[c] = len(char_to_id)
            id_to_char[char_to_id[c]] = c

    x = np.array([[char_to_id[c] for c in q] for q in questions], dtype=int)
    t = np.array([[char_to_id[c] for c in a] for a in answers], dtype=int)
    x = x.reshape(len(questions), len(questions[0]))  # 빈 문제도 책과 같은 모양으로
    t = t.reshape(len(answers), len(answers[0]))

    indices = np.arange(len(x))
    if seed is not None:
        np.random.seed(seed)
    np.random.shuffle(indices)
    x, t = x[indices], t[indices]

    split_at = len(x) - len(x) // 10  # 10%를 시험 데이터로
    return (x[:split_at], t[:split_at]), (x[split_at:], t[split_at:])


def get_vocab():
    """지금까지 읽은 파일의 문자 어휘 (char_to_id, id_to_char)를 돌려줍니다(7.2.4절)."""
    return char_to_id, id_to_char
