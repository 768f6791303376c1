"""Phrases of page furniture and teasers, per language: data, not code.

Add a language or a phrase here; :mod:`bot.text.summarize` builds its patterns from
these tables (every language's phrases apply to every feed, so a mislabelled feed is
still cleaned).
"""

from __future__ import annotations

__all__ = ["BOILERPLATE", "TEASER_ENDINGS"]

#: "Read more" links that close a teaser, per language.
TEASER_ENDINGS: dict[str, tuple[str, ...]] = {
    "en": (
        "read more",
        "continue reading",
        "keep reading",
        "read the full story",
        "read the full article",
        "read full article",
        "read full story",
    ),
    "ru": (
        "читать далее",
        "читать дальше",
        "читать полностью",
        "продолжить чтение",
        "продолжение",
        "подробнее",
        "далее",
    ),
    "ka": (
        "ვრცლად",
        "სრულად",
        "წაიკითხეთ სრულად",
        "ვრცლად წაიკითხეთ",
        "სრულად წაკითხვა",
        "კითხვის გაგრძელება",
        "გაგრძელება",
    ),
    "hy": (
        "կարդալ ավելին",
        "շարունակել կարդալ",
        "շարունակել ընթերցումը",
        "կարդալ ամբողջությամբ",
        "մանրամասն",
        "ավելին",
    ),
    "az": (
        "ətraflı",
        "daha ətraflı",
        "ətraflı oxu",
        "davamını oxu",
        "davamını oxuyun",
        "ardını oxu",
        "ardını oxuyun",
        "davamı",
    ),
}

#: Sentence or paragraph openings that mark page furniture, per language and kind.
#: ``related`` drops the whole paragraph (the rest is a linked headline); the others
#: drop the sentence they open.
BOILERPLATE: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "related": ("read also", "also read", "see also", "related:", "read more:", "more:"),
        "credit": ("photo:", "photos:", "photo by", "photo credit", "image:", "cover photo:"),
        "byline": ("by ",),
        "appeal": ("support us", "support our", "support independent", "donate", "subscribe to"),
    },
    "ru": {
        "related": (
            "читайте также",
            "также читайте",
            "смотрите также",
            "см. также",
            "читать также",
        ),
        "credit": ("фото:", "фото -", "фото —", "фото предоставлено", "фотография:"),
        "byline": ("автор:", "текст:", "автор текста:"),
        "appeal": ("поддержите", "поддержать", "помогите нам", "подписывайтесь", "подпишитесь"),
    },
    "ka": {
        "related": ("ასევე წაიკითხეთ", "წაიკითხეთ ასევე", "ასევე იხილეთ", "იხილეთ ასევე"),
        "credit": ("ფოტო:", "ფოტო -", "ფოტო —"),
        "byline": ("ავტორი:",),
        "appeal": ("მხარი დაგვიჭირეთ", "დაგვიჭირეთ მხარი", "გამოიწერეთ"),
    },
    "hy": {
        "related": ("կարդացեք նաև", "կարդացեք նաեւ", "տես նաև", "տես նաեւ", "կարդալ նաև"),
        "credit": ("լուսանկարը՝", "լուսանկար՝", "լուսանկարը:", "լուսանկար:", "լուս.՝"),
        "byline": ("հեղինակ՝", "հեղինակ:"),
        "appeal": ("աջակցեք", "աջակցել", "սատարեք", "բաժանորդագրվեք"),
    },
    "az": {
        "related": ("həmçinin oxuyun", "həmçinin oxu", "oxu həmçinin", "həmçinin bax", "bax:"),
        "credit": ("foto:", "şəkil:", "foto -", "foto —"),
        "byline": ("müəllif:",),
        "appeal": ("bizi dəstəkləyin", "dəstək olun", "abunə olun"),
    },
}
