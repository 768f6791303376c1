"""Feeds shaped like the outlet's real WordPress site (jam-news.net), in five languages.

Each edition is an RSS 2.0 feed as WordPress writes it with an SEO plugin: the channel
title is the site's name, ``<description>`` holds the excerpt (WordPress's automatic one:
the first 55 words and `` [&hellip;]``, or an editor's) and ``content:encoded`` the whole
article; the plugin appends its footer paragraph to both, "The post <title> appeared first
on <site>." in the site's language. Articles end with a sentence about a link ("The full
text is available here."), have categories and a lead image (``media:content`` and
``enclosure``). The Georgian, Armenian and Azerbaijani footers are worded as a site might
translate the template: the summarizer must recognise them without knowing the wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

SITE = "https://jam-news.net"
SITE_NAME = "JAMnews"
#: WordPress's automatic excerpt: this many words, then its "more" string.
EXCERPT_WORDS = 55


@dataclass(frozen=True)
class Article:
    """One story: ``paragraphs`` are lists of sentences (the reference splitting)."""

    lang: str
    post_id: int
    slug: str
    title: str
    paragraphs: tuple[tuple[str, ...], ...]
    link_sentence: str  # HTML: a sentence whose link says "here"
    footer: str  # the SEO template, with {post} and {site}
    editor_excerpt: str
    categories: tuple[str, ...]

    @property
    def url(self) -> str:
        prefix = "" if self.lang == "en" else f"/{self.lang}"
        return f"{SITE}{prefix}/{self.slug}/"

    @property
    def home(self) -> str:
        return SITE + ("/" if self.lang == "en" else f"/{self.lang}/")

    @property
    def sentences(self) -> list[str]:
        return [sentence for paragraph in self.paragraphs for sentence in paragraph]

    def footer_html(self) -> str:
        post = f'<a href="{self.url}">{escape(self.title)}</a>'
        site = f'<a href="{self.home}">{SITE_NAME}</a>'
        return f"<p>{self.footer.format(post=post, site=site)}</p>\n"

    def footer_text(self) -> str:
        return self.footer.format(post=self.title, site=SITE_NAME)

    def content_html(self) -> str:
        paragraphs = [f"<p>{' '.join(paragraph)}</p>" for paragraph in self.paragraphs]
        image = (
            f'<figure class="wp-block-image"><img src="{self.image}" alt="" />'
            f"<figcaption>Photo: {SITE_NAME}</figcaption></figure>"
        )
        body = [paragraphs[0], image, *paragraphs[1:], f"<p>{self.link_sentence}</p>"]
        return "\n".join(body) + "\n" + self.footer_html()

    def auto_excerpt(self, more: str = " [&hellip;]") -> str:
        """``wp_trim_excerpt``: the text's first 55 words, then ``more``."""
        words = " ".join(self.sentences).split()
        return escape(" ".join(words[:EXCERPT_WORDS])) + more

    @property
    def image(self) -> str:
        return f"{SITE}/wp-content/uploads/2026/11/{self.slug}.jpg"


def _item(article: Article, description: str, content: str | None, when: datetime) -> str:
    categories = "".join(
        f"\t\t<category><![CDATA[{name}]]></category>\n" for name in article.categories
    )
    encoded = f"\t\t<content:encoded><![CDATA[{content}]]></content:encoded>\n" if content else ""
    return (
        "\t<item>\n"
        f"\t\t<title>{escape(article.title)}</title>\n"
        f"\t\t<link>{article.url}</link>\n"
        "\t\t<dc:creator><![CDATA[JAMnews]]></dc:creator>\n"
        f"\t\t<pubDate>{format_datetime(when)}</pubDate>\n"
        f"{categories}"
        f'\t\t<guid isPermaLink="false">{SITE}/?p={article.post_id}</guid>\n'
        f"\t\t<description><![CDATA[{description}]]></description>\n"
        f"{encoded}"
        f'\t\t<media:content url="{article.image}" medium="image" width="1200" height="800" />\n'
        f'\t\t<enclosure url="{article.image}" length="183000" type="image/jpeg" />\n'
        "\t</item>\n"
    )


def jamnews_item(
    article: Article,
    *,
    excerpt: str = "auto",
    more: str = " [&hellip;]",
    content: bool = True,
    published: datetime | None = None,
) -> str:
    """One ``<item>``. ``excerpt``: ``"auto"`` (WordPress's cut excerpt ending in
    ``more``), ``"editor"`` (written by an editor) or ``"none"``."""
    when = published or datetime.now(UTC) - timedelta(minutes=5)
    if excerpt == "auto":
        description = article.auto_excerpt(more) + article.footer_html()
    elif excerpt == "editor":
        description = escape(article.editor_excerpt) + article.footer_html()
    else:
        description = ""
    return _item(article, description, article.content_html() if content else None, when)


def jamnews_channel(lang: str, items: list[str], *, base: str = SITE) -> bytes:
    """The edition's ``/feed/`` with ``items``; links point at ``base`` instead of the
    real site when a test serves the pages itself."""
    home = SITE + ("/" if lang == "en" else f"/{lang}/")
    language = {"en": "en-US", "ru": "ru-RU", "ka": "ka-GE", "hy": "hy-AM", "az": "az"}
    when = format_datetime(datetime.now(UTC))
    document = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"\n'
        '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
        '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '\txmlns:atom="http://www.w3.org/2005/Atom"\n'
        '\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"\n'
        '\txmlns:media="http://search.yahoo.com/mrss/"\n'
        ">\n<channel>\n"
        f"\t<title>{SITE_NAME}</title>\n"
        f'\t<atom:link href="{home}feed/" rel="self" type="application/rss+xml" />\n'
        f"\t<link>{home}</link>\n"
        "\t<description>News from the South Caucasus</description>\n"
        f"\t<lastBuildDate>{when}</lastBuildDate>\n"
        f"\t<language>{language[lang]}</language>\n"
        "\t<sy:updatePeriod>hourly</sy:updatePeriod>\n"
        "\t<generator>https://wordpress.org/?v=6.8.3</generator>\n"
        f"{''.join(items)}"
        "</channel>\n</rss>\n"
    )
    return document.replace(SITE, base).encode()


def jamnews_feed(article: Article, **shape: Any) -> bytes:
    """The edition's ``/feed/`` with one item shaped by ``shape`` (see :func:`jamnews_item`)."""
    return jamnews_channel(article.lang, [jamnews_item(article, **shape)])


def article_page(article: Article) -> str:
    """The article's page on the site (for items whose feed has no content)."""
    paragraphs = "\n".join(f"<p>{' '.join(p)}</p>" for p in article.paragraphs)
    return (
        f'<!DOCTYPE html><html lang="{article.lang}"><head><meta charset="utf-8">'
        f"<title>{escape(article.title)} - {SITE_NAME}</title></head><body>"
        f'<header><nav><a href="/">{SITE_NAME}</a></nav></header><main><article>'
        f"<h1>{escape(article.title)}</h1>\n{paragraphs}\n<p>{article.link_sentence}</p>"
        f"</article></main><footer><p>© 2026 {SITE_NAME}</p></footer></body></html>"
    )


_TERMINAL = re.compile(r"[.!?…։:][\"'»”’“)]*$")


def ends_a_sentence(text: str) -> bool:
    """A summary's last character is a sentence's end (Armenian ``:`` included)."""
    return bool(_TERMINAL.search(text))


ARTICLES: dict[str, Article] = {
    "en": Article(
        lang="en",
        post_id=81501,
        slug="armenia-georgia-second-border-crossing-guguti",
        title="Armenia and Georgia agree to open a second border crossing at Guguti",
        paragraphs=(
            (
                "Armenia and Georgia will open a second border crossing point between the two"
                " countries next spring, the governments announced on Monday.",
                "The new checkpoint at Guguti will be open around the clock for cars and"
                " freight trucks.",
            ),
            (
                "Until now, almost all traffic between the two countries has passed through"
                " Sadakhlo, where lorries often wait for up to 12 hours in summer.",
                "Drivers have complained for years about the queues and the lack of services"
                " at the border.",
            ),
            (
                "“The new crossing will cut the waiting time in half,” Deputy Prime Minister"
                " Mher Grigoryan said after the meeting in Tbilisi.",
                "The construction will cost about 20 million U.S. dollars and is financed by"
                " the EU.",
            ),
        ),
        link_sentence=(
            f'The full text of the agreement is available <a href="{SITE}/doc/">here</a>.'
        ),
        footer="The post {post} appeared first on {site}.",
        editor_excerpt=(
            "A second checkpoint between Armenia and Georgia is to open at Guguti next spring."
            " It should halve the queues at Sadakhlo."
        ),
        categories=("Armenia", "Georgia", "Economy"),
    ),
    "ru": Article(
        lang="ru",
        post_id=81502,
        slug="baku-metro-fare-60-qepik",
        title="В Баку стоимость проезда в метро вырастет до 60 гяпиков",
        paragraphs=(
            (
                "С 1 декабря проезд в бакинском метро и городских автобусах будет стоить"
                " 60 гяпиков вместо 50.",
                "Решение в понедельник утвердил Тарифный совет Азербайджана.",
            ),
            (
                "В Бакинском метрополитене повышение объясняют ростом цен на электроэнергию и"
                " расходами на ремонт подвижного состава.",
                "Последний раз тариф менялся в 2023 г., когда он вырос с 40 до 50 гяпиков.",
            ),
            (
                "Экономист Тогрул Масимлы считает, что решение ударит прежде всего по"
                " студентам и пенсионерам.",
                "«Для многих семей это ощутимые расходы, особенно в регионах», — сказал он"
                " JAMnews.",
            ),
        ),
        link_sentence=(
            "С полным текстом решения Тарифного совета можно ознакомиться"
            f' <a href="{SITE}/doc/">здесь</a>.'
        ),
        footer="Сообщение {post} появились сначала на {site}.",
        editor_excerpt=(
            "С 1 декабря проезд в бакинском метро подорожает на 10 гяпиков. Экономисты"
            " говорят, что сильнее всего это ударит по студентам и пенсионерам."
        ),
        categories=("Азербайджан", "Баку", "Экономика"),
    ),
    "ka": Article(
        lang="ka",
        post_id=81503,
        slug="tbilisi-minibuses-replaced-by-buses",
        title="თბილისში ყვითელ მიკროავტობუსებს ახალი ავტობუსები ჩაანაცვლებს",
        paragraphs=(
            (
                "თბილისის მერიამ განაცხადა, რომ 2025 წლის ბოლომდე დედაქალაქის ქუჩებში"
                " ყვითელი მიკროავტობუსები აღარ იქნება.",
                "მათ ნაცვლად ქალაქში 400-მდე ახალი ავტობუსი იმუშავებს.",
            ),
            (
                "მერიის ცნობით, ახალი ავტობუსები ბუნებრივ აირზე იმუშავებს და შეზღუდული"
                " შესაძლებლობის მქონე მგზავრებისთვის სრულად იქნება ადაპტირებული.",
                "მგზავრობის საფასური არ შეიცვლება და კვლავ 1 ლარი იქნება.",
            ),
            (
                "ტრანსპორტის ექსპერტის თქმით, რეფორმა საცობებს შეამცირებს, თუმცა გარეუბნების"
                " მცხოვრებლებს ახალი მარშრუტების სწავლა მოუწევთ.",
                "„ვთხოვთ მერიას, რომ ცვლილებების შესახებ მოსახლეობას წინასწარ აცნობოს“,"
                " — თქვა მან.",
            ),
        ),
        link_sentence=(
            f'ახალი მარშრუტების სრულ სიას შეგიძლიათ <a href="{SITE}/doc/">აქ</a> გაეცნოთ.'
        ),
        footer="პოსტი {post} პირველად გამოქვეყნდა {site}-ზე.",
        editor_excerpt=(
            "თბილისის ქუჩებში ყვითელ მიკროავტობუსებს 400 ახალი ავტობუსი ჩაანაცვლებს."
            " მგზავრობის საფასური 1 ლარი დარჩება."
        ),
        categories=("საქართველო", "თბილისი", "ტრანსპორტი"),
    ),
    "hy": Article(
        lang="hy",
        post_id=81504,
        slug="yerevan-ajapnyak-metro-station",
        title="Երևանում «Աջափնյակ» մետրոյի կայանի շինարարությունը կսկսվի գարնանը",
        paragraphs=(
            (
                "Երևանի քաղաքապետարանը հայտարարել է, որ «Աջափնյակ» մետրոյի կայանի"
                " շինարարությունը կսկսվի հաջորդ տարվա գարնանը։",
                "Նախագծի արժեքը գնահատվում է մոտ 100 միլիոն դոլար:",
            ),
            (
                "Քաղաքապետարանի տվյալներով՝ նոր կայանը օրական կսպասարկի մինչև 30 հազար ուղևոր։",
                "Շինարարությունը կտևի մոտ չորս տարի, և այդ ընթացքում որոշ փողոցներում"
                " երթևեկությունը կսահմանափակվի։",
            ),
            (
                "Քաղաքաշինության փորձագետ Սարգիս Գևորգյանը կարծում է, որ կայանը կթեթևացնի"
                " Աջափնյակ վարչական շրջանի տրանսպորտային խնդիրները։",
                "«Սա վաղուց սպասված որոշում է», — ասել է նա JAMnews-ին:",
            ),
        ),
        link_sentence=f'Նախագծի մանրամասներին կարող եք ծանոթանալ <a href="{SITE}/doc/">այստեղ</a>։',
        footer="Գրառումը {post} առաջին անգամ հրապարակվել է {site} կայքում։",
        editor_excerpt=(
            "Երևանում «Աջափնյակ» մետրոյի կայանի շինարարությունը կսկսվի հաջորդ գարնանը։"
            " Այն օրական կսպասարկի մինչև 30 հազար ուղևոր։"
        ),
        categories=("Հայաստան", "Երևան", "Տրանսպորտ"),
    ),
    "az": Article(
        lang="az",
        post_id=81505,
        slug="baku-tbilisi-kars-cargo-doubled",
        title="Bakı–Tbilisi–Qars dəmir yolu ilə yük daşımaları iki dəfə artıb",
        paragraphs=(
            (
                "Bu ilin ilk doqquz ayında Bakı–Tbilisi–Qars dəmir yolu ilə 700 min tondan"
                " çox yük daşınıb.",
                "Bu, ötən ilin eyni dövrü ilə müqayisədə iki dəfə çoxdur.",
            ),
            (
                "Azərbaycan Dəmir Yolları QSC-nin məlumatına görə, artım əsasən Çindən"
                " Avropaya gedən konteyner qatarlarının hesabınadır.",
                "Şirkət gələn il xəttin ötürmə qabiliyyətini ildə 5 milyon tona çatdırmağı"
                " planlaşdırır.",
            ),
            (
                "İqtisadçı Natiq Cəfərli hesab edir ki, Rusiyadan yan keçən yollara tələbat"
                " artdıqca marşrut daha da populyarlaşacaq.",
                "“Ancaq tariflər hələ də yüksəkdir və bu, yükdaşıyanları narahat edir”, – o,"
                " JAMnews-a bildirib.",
            ),
        ),
        link_sentence=(
            f'Hesabatın tam mətni ilə <a href="{SITE}/doc/">buradan</a> tanış olmaq olar.'
        ),
        footer="{post} yazısı ilk dəfə {site} saytında dərc olunub.",
        editor_excerpt=(
            "Bakı–Tbilisi–Qars xətti ilə yük daşımaları bu il iki dəfə artıb. Artım əsasən"
            " Çindən gələn konteyner qatarlarının hesabınadır."
        ),
        categories=("Azərbaycan", "İqtisadiyyat", "Nəqliyyat"),
    ),
}

#: "Read more" links themes put after an excerpt, per language (with WordPress's ``…``).
READ_MORE: dict[str, str] = {
    "en": "Continue reading",
    "ru": "Читать далее",
    "ka": "სრულად წაკითხვა",
    "hy": "Կարդալ ավելին",
    "az": "Davamını oxu",
}
