"""책 ❷의 dataset/ptb.py: 2.4.4절(PTB 데이터셋)의 펜 트리뱅크(Penn Treebank) 말뭉치를 읽습니다.

책과 같은 이름(load_data, load_vocab, url_base, key_file, save_file, vocab_file, dataset_dir)과
같은 단어 ID를 제공합니다. 어휘는 ptb.train.txt에서 처음 나온 순서대로 ID를 매기고, 책처럼 줄바꿈을
'<eos>'로 바꾼 다음 공백으로 나눕니다.

파일(ptb.train.txt, ptb.valid.txt, ptb.test.txt)은 패키지 옆이 아니라 tinygrad_ko의 데이터
폴더에 둡니다. $TINYGRAD_KO_DATA가 있으면 그 폴더(세 파일이 바로 들어 있을 때) 또는 그 안의
ptb/, 없으면 사용자 캐시(~/.cache/tinygrad_ko/ptb, XDG_CACHE_HOME을 따릅니다)입니다. 없는 파일은
$TINYGRAD_KO_OFFLINE이 없을 때만 url_base에서 내려받고, 임시 이름으로 받아 검사한 다음에야 제
이름으로 바꾸므로 덜 받은 파일이 남지 않습니다. 사용자가 직접 넣은 파일은 검사 없이 그대로
읽습니다(텍스트가 아니면 오류). 책과 달리 .npy와 pickle 캐시는 만들지 않습니다.
"""

from __future__ import annotations

import os
import re

import numpy as np

from tinygrad_ko.book2 import download

__all__ = ["load_data", "load_vocab"]

url_base = "https://raw.githubusercontent.com/tomsercu/lstm/master/data/"
key_file = {"train": "ptb.train.txt", "test": "ptb.test.txt", "valid": "ptb.valid.txt"}
# 책이 캐시로 쓰던 파일 이름입니다. 책의 이름을 남겨 둘 뿐, tinygrad_ko는 만들지도 읽지도 않습니다.
save_file = {"train": "ptb.train.npy", "test": "ptb.test.npy", "valid": "ptb.valid.npy"}
vocab_file = "ptb.vocab.pkl"

DOWNLOAD_LIMIT = 10 * 2**20  # 내려받는 파일의 상한(실제 파일은 0.4-5.1 MB)
VOCAB_LIMIT = 10_000  # PTB의 어휘 수('<eos>' 포함)


# --- checking a download ---------------------------------------------------------------------

_HTML = re.compile(r"<\s*(?:!doctype|html|head|body|script|meta|title|div|p\b|/)", re.I)
_NOT_SPACE_SEPARATED = re.compile(r"[^\S \n]|[\x00-\x09\x0b-\x1f\x7f]")  # tabs, \r, controls
_HAS_CAPITAL = re.compile(r"\S*[A-Z]\S*")
_UNK = re.compile(r"(?<!\S)<unk>(?!\S)")


def _line(text, position):
    return text.count("\n", 0, position) + 1


def _check_download(name, data):
    """Refuse what does not look like PTB text: not UTF-8, an HTML page, cut off mid-line,
    anything but lowercase words (numbers are N) separated by spaces, no <unk>, and for the
    training file a vocabulary beyond PTB's 10,000 words."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise download.Refused(f"is not UTF-8 text ({error})") from None
    if _HTML.search(text):
        raise download.Refused("is an HTML page, not Penn Treebank text")
    if not text.strip():
        raise download.Refused("is empty")
    if not text.endswith("\n"):
        raise download.Refused("ends in the middle of a line: it was cut short")
    if bad := _NOT_SPACE_SEPARATED.search(text):
        raise download.Refused(
            f"holds the character {bad[0]!r} on line {_line(text, bad.start())}; Penn Treebank "
            "text has words separated by spaces, one sentence a line"
        )
    for word in _HAS_CAPITAL.finditer(text):
        if word[0] != "N":
            raise download.Refused(
                f"holds the word {word[0]!r} on line {_line(text, word.start())}; Penn Treebank "
                "words are lower case (numbers are N)"
            )
    if not _UNK.search(text):
        raise download.Refused("holds no <unk>, which Penn Treebank text has for its rare words")
    if name == key_file["train"]:
        words = len(set(_words(text)))
        if words > VOCAB_LIMIT:
            raise download.Refused(
                f"has {words} different words, more than the {VOCAB_LIMIT:,} of PTB"
            )


# --- reading ---------------------------------------------------------------------------------


def _folder():
    """The folder in use, kept in dataset_dir as the book's module has it."""
    global dataset_dir
    folder = download.data_folder("ptb", list(key_file.values()))
    dataset_dir = str(folder)
    return folder


dataset_dir = str(download.data_folder("ptb", list(key_file.values())))


def _ensure(folder, names):
    missing = [name for name in names if not (folder / name).is_file()]
    if not missing:
        return
    if os.environ.get("TINYGRAD_KO_OFFLINE"):
        problem = "downloads are switched off (TINYGRAD_KO_OFFLINE is set)"
    else:
        try:
            download.fetch_all(url_base, folder, missing, DOWNLOAD_LIMIT, _check_download)
            return
        except OSError as error:
            problem = str(error)
    raise FileNotFoundError(
        f"ptb: {folder} ({download.source()}) does not hold {', '.join(missing)}; {problem}.\n"
        f"The Penn Treebank loader reads {', '.join(key_file[k] for k in ('train', 'valid'))} "
        f"and {key_file['test']}: download them by hand from {url_base} (for example "
        f"{url_base}{key_file['train']}) into {folder}, or set TINYGRAD_KO_DATA to a folder "
        "holding ptb/ with the three files."
    )


def _words(text):
    return text.replace("\n", "<eos>").strip().split()  # as the book splits


def _read_words(path):
    try:
        with open(path, encoding="utf-8") as f:  # text mode: \r\n reads as \n, as in the book
            text = f.read()
    except UnicodeDecodeError as error:
        raise ValueError(f"ptb: {path} is not a text file ({error})") from None
    if "\x00" in text:
        raise ValueError(f"ptb: {path} is not a text file (it holds NUL bytes)")
    return _words(text)


def _vocab(words):
    word_to_id = {word: i for i, word in enumerate(dict.fromkeys(words))}  # first appearance
    id_to_word = {i: word for word, i in word_to_id.items()}
    return word_to_id, id_to_word


def load_vocab():
    """PTB의 어휘 (word_to_id, id_to_word)를 돌려줍니다(2.4.4절).

    ptb.train.txt의 단어(줄바꿈은 '<eos>')에 처음 나온 순서대로 0부터 ID를 매깁니다. 실제
    PTB에서는 '<eos>'를 포함해 10,000개입니다.
    """
    folder = _folder()
    _ensure(folder, [key_file["train"]])
    return _vocab(_read_words(folder / key_file["train"]))


def load_data(data_type="train"):
    """PTB 말뭉치 (corpus, word_to_id, id_to_word)를 돌려줍니다(2.4.4절).

    data_type: 'train', 'test', 'valid' 또는 'val'. corpus는 그 파일의 단어를 차례로 ID로 바꾼
    정수 배열(np.array로 만든 파이썬 int, 보통 int64)이고, 어휘는 load_vocab()과 같습니다.
    """
    if data_type == "val":
        data_type = "valid"
    if data_type not in key_file:
        raise ValueError(
            f"ptb.load_data: data_type must be 'train', 'test', 'valid' or 'val', not {data_type!r}"
        )
    folder = _folder()
    _ensure(folder, dict.fromkeys([key_file["train"], key_file[data_type]]))
    train = _read_words(folder / key_file["train"])
    word_to_id, id_to_word = _vocab(train)
    path = folder / key_file[data_type]
    words = train if data_type == "train" else _read_words(path)
    try:
        corpus = np.array([word_to_id[w] for w in words])
    except KeyError as error:
        raise ValueError(
            f"ptb.load_data: {path} holds the word {error.args[0]!r}, which {key_file['train']} "
            "(the vocabulary) does not"
        ) from None
    return corpus, word_to_id, id_to_word
