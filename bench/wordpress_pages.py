"""Article pages as a WordPress news site serves them, for the extraction benchmark.

The markup is Twenty Twenty-One's single-post template as WordPress renders it, with
what a newsroom's plugins add: Yoast SEO's head (canonical, OpenGraph, a JSON-LD
``@graph``), the block library's and the theme's inline styles, the emoji script, a
primary menu with sub-menus, the article (featured image with ``srcset``, blocks, a
pull quote, "Read also" links), tags and categories, the author box, post navigation,
Jetpack's related posts, a threaded comment list and the comment form, footer widgets
(recent posts, categories, tag cloud, archives) and the footer scripts. Pages come out
at 60–100 KB, as real ones do.

The article text is NTREX-128 news and the comments are English web text from UD EWT
(``../shared/corpus/sentences``); without the corpus, plain generated sentences.
"""

from __future__ import annotations

import html
import json
import random
from pathlib import Path

_CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "sentences"
_REGIONS = ("Georgia", "Armenia", "Azerbaijan", "Abkhazia", "South Ossetia", "Karabakh")
_TOPICS = ("Politics", "Economy", "Society", "Culture", "Sport", "Opinion", "Analysis")
_NAMES = ("Nino", "Aram", "Leyla", "Giorgi", "Ani", "Rashad", "Tamar", "Davit", "Aysel")


def _paragraphs(name: str, fallback: str) -> list[list[str]]:
    path = _CORPUS / name
    if not path.is_file():
        return [[fallback.format(n=n, k=k) for k in range(4)] for n in range(200)]
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line)["sentences"] for line in handle if line.strip()]


_NEWS = _paragraphs("ntrex/en.jsonl", "Officials confirmed plan {n} at briefing {k} on Monday.")
_WEB = _paragraphs("en.jsonl", "I read story {n} and comment {k} is what I think of it.")


def _menu(rng: random.Random, base: str) -> str:
    items = []
    for number, region in enumerate(_REGIONS):
        subs = "".join(
            f'<li id="menu-item-{number * 100 + k}" class="menu-item menu-item-type-taxonomy '
            f'menu-item-object-category menu-item-{number * 100 + k}"><a href="{base}/category/'
            f'{region.lower().replace(" ", "-")}/{t.lower()}/">{t}</a></li>'
            for k, t in enumerate(_TOPICS)
        )
        items.append(
            f'<li id="menu-item-{number}" class="menu-item menu-item-type-taxonomy '
            f'menu-item-object-category menu-item-has-children menu-item-{number}">'
            f'<a href="{base}/category/{region.lower().replace(" ", "-")}/">{region}</a>'
            '<button class="sub-menu-toggle" aria-expanded="false" onClick="twentytwentyone'
            'ExpandSubMenu(this)"><span class="icon-plus"><svg class="svg-icon" width="18" '
            'height="18" aria-hidden="true" role="img" focusable="false" viewBox="0 0 24 24">'
            '<path fill-rule="evenodd" clip-rule="evenodd" d="M18 11.2h-5.2V6h-1.6v5.2H6v1.6h5.2'
            'V18h1.6v-5.2H18z" fill="currentColor"/></svg></span></button>'
            f'<ul class="sub-menu">{subs}</ul></li>'
        )
    languages = "".join(
        f'<li class="lang-item lang-item-{code}"><a lang="{code}" hreflang="{code}" '
        f'href="{base}/{code}/">{code.upper()}</a></li>'
        for code in ("en", "ru", "ka", "hy", "az")
    )
    return (
        '<nav id="site-navigation" class="primary-navigation" aria-label="Primary menu">'
        '<div class="menu-button-container"><button id="primary-mobile-menu" class="button" '
        'aria-controls="primary-menu-list" aria-expanded="false"><span class="dropdown-icon '
        'open">Menu</span></button></div><div class="primary-menu-container">'
        f'<ul id="primary-menu-list" class="menu-wrapper">{"".join(items)}{languages}</ul>'
        "</div></nav>"
    )


def _styles(rng: random.Random) -> str:
    presets = "".join(
        f"--wp--preset--color--{name}: #{rng.randrange(0x1000000):06x};"
        for name in ("black", "gray", "green", "blue", "purple", "red", "orange", "yellow")
    )
    gradients = "".join(
        f"--wp--preset--gradient--g{k}: linear-gradient(160deg, #{rng.randrange(0x1000000):06x}"
        f" 0%, #{rng.randrange(0x1000000):06x} 100%);"
        for k in range(12)
    )
    rules = "".join(
        f".has-{name}-color{{color: var(--wp--preset--color--{name}) !important;}}"
        f".has-{name}-background-color{{background-color: var(--wp--preset--color--{name}) "
        "!important;}"
        f".has-{name}-border-color{{border-color: var(--wp--preset--color--{name}) !important;}}"
        for name in ("black", "gray", "green", "blue", "purple", "red", "orange", "yellow") * 3
    )
    return (
        "<link rel='stylesheet' id='wp-block-library-css' href='/wp-includes/css/dist/"
        "block-library/style.min.css?ver=6.4.2' media='all' />"
        f"<style id='global-styles-inline-css'>body{{{presets}{gradients}}}{rules}</style>"
        "<link rel='stylesheet' id='twenty-twenty-one-style-css' href='/wp-content/themes/"
        "twentytwentyone/style.css?ver=2.1' media='all' />"
    )


def _head(title: str, url: str, published: str, section: str, image: str) -> str:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "NewsArticle", "@id": f"{url}#article", "headline": title,
             "datePublished": published, "articleSection": [section], "inLanguage": "en-US",
             "image": {"@id": f"{url}#primaryimage"}, "author": {"name": "Staff"}},
            {"@type": "WebPage", "@id": url, "url": url, "name": title},
            {"@type": "ImageObject", "@id": f"{url}#primaryimage", "url": image},
            {"@type": "BreadcrumbList", "itemListElement": [
                {"@type": "ListItem", "position": 1, "name": "Home"},
                {"@type": "ListItem", "position": 2, "name": section}]},
        ],
    }  # fmt: skip
    emoji = (
        "window._wpemojiSettings = "
        + json.dumps(
            {
                "baseUrl": "https://s.w.org/images/core/emoji/14.0.0/72x72/",
                "ext": ".png",
                "svgUrl": "https://s.w.org/images/core/emoji/14.0.0/svg/",
                "source": {"concatemoji": "/wp-includes/js/wp-emoji-release.min.js?ver=6.4.2"},
            }
        )
        + ";!function(i,n){var o,s,e;function c(e){try{var t={supportTests:e,timestamp:"
        "(new Date).valueOf()};sessionStorage.setItem(o,JSON.stringify(t))}catch(e){}}"
        "function p(e,t,n){e.clearRect(0,0,e.canvas.width,e.canvas.height),e.fillText(t,0,0)}"
        "}((window,document),window._wpemojiSettings);" * 4
    )
    escaped = html.escape(title)
    return (
        '<!doctype html><html lang="en-US"><head><meta charset="UTF-8" />'
        '<meta name="viewport" content="width=device-width, initial-scale=1" />'
        f"<title>{escaped} - Caucasus Wire</title>"
        '<meta name="robots" content="index, follow, max-image-preview:large" />'
        f'<link rel="canonical" href="{url}" />'
        '<meta property="og:locale" content="en_US" /><meta property="og:type" '
        f'content="article" /><meta property="og:title" content="{escaped}" />'
        f'<meta property="og:url" content="{url}" /><meta property="og:site_name" '
        f'content="Caucasus Wire" /><meta property="article:published_time" '
        f'content="{published}" /><meta property="og:image" content="{image}" />'
        '<meta name="twitter:card" content="summary_large_image" />'
        f'<script type="application/ld+json" class="yoast-schema-graph">{json.dumps(graph)}'
        "</script>"
        '<link rel="https://api.w.org/" href="/wp-json/" />'
        + "".join(
            f'<link rel="alternate" hreflang="{code}" href="{url}?lang={code}" />'
            for code in ("ru", "ka", "hy", "az")
        )
        + f"<script>{emoji}</script>"
        + _styles(random.Random(url))
        + '<meta name="generator" content="WordPress 6.4.2" /></head>'
    )


def _article(rng: random.Random, number: int, url: str, image: str) -> tuple[str, str]:
    start = rng.randrange(len(_NEWS))
    paragraphs = [_NEWS[(start + k) % len(_NEWS)] for k in range(rng.randint(8, 14))]
    title = paragraphs[0][0][:90]
    blocks = []
    for index, sentences in enumerate(paragraphs):
        blocks.append(f"<p>{html.escape(' '.join(sentences))}</p>")
        if index == 2:
            blocks.append(
                '<figure class="wp-block-image size-large"><img decoding="async" loading='
                f'"lazy" width="1024" height="683" src="{image}" alt="" class="wp-image-'
                f'{number}" srcset="{image} 1024w, {image}?w=300 300w, {image}?w=768 768w" '
                'sizes="(max-width: 1024px) 100vw, 1024px" /><figcaption class="wp-element-'
                'caption">Photo: Caucasus Wire</figcaption></figure>'
            )
        if index == 4:
            other = _NEWS[(start + 40) % len(_NEWS)][0][:80]
            blocks.append(
                f'<p><strong>Read also: <a href="/{number + 1}/">{html.escape(other)}</a>'
                "</strong></p>"
            )
        if index == 6:
            quote = html.escape(paragraphs[1][-1])
            blocks.append(
                f'<figure class="wp-block-pullquote"><blockquote><p>{quote}</p><cite>'
                "Staff</cite></blockquote></figure>"
            )
    return title, "".join(blocks)


def _comments(rng: random.Random, count: int) -> str:
    items = []
    for k in range(count):
        text = " ".join(_WEB[rng.randrange(len(_WEB))])
        name = rng.choice(_NAMES)
        depth = 2 if k % 4 == 3 else 1
        item = (
            f'<li id="comment-{k}" class="comment {"even" if k % 2 else "odd"} thread-even '
            f'depth-{depth}"><article id="div-comment-{k}" class="comment-body"><footer class='
            '"comment-meta"><div class="comment-author vcard"><img alt="" src="https://secure.'
            f'gravatar.com/avatar/{k:032x}?s=60&#038;d=mm&#038;r=g" class="avatar avatar-60 '
            f'photo" height="60" width="60" loading="lazy" decoding="async"/><b class="fn">'
            f'{name}</b> <span class="says">says:</span></div><div class="comment-metadata">'
            f'<a href="#comment-{k}"><time datetime="2026-11-26T1{k % 10}:00:00+04:00">'
            "November 26, 2026 at 1:00 pm</time></a></div></footer><div class="
            f'"comment-content"><p>{html.escape(text)}</p></div><div class="reply"><a rel='
            f'"nofollow" class="comment-reply-link" href="?replytocom={k}#respond" data-'
            f'commentid="{k}" data-postid="1" aria-label="Reply to {name}">Reply</a></div>'
            "</article></li>"
        )
        items.append(f'<ol class="children">{item}</ol>' if depth == 2 else item)
    form = (
        '<div id="respond" class="comment-respond"><h2 id="reply-title" class="comment-reply-'
        'title">Leave a comment</h2><form action="/wp-comments-post.php" method="post" id='
        '"commentform" class="comment-form" novalidate><p class="comment-notes">Your email '
        "address will not be published. Required fields are marked *</p>"
        '<p class="comment-form-comment"><label for="comment">Comment</label><textarea id='
        '"comment" name="comment" cols="45" rows="5" maxlength="65525" required></textarea>'
        '</p><p class="comment-form-author"><label for="author">Name</label><input id="author"'
        ' name="author" type="text" size="30" maxlength="245" required /></p><p class="form-'
        'submit"><input name="submit" type="submit" id="submit" class="submit" value="Post '
        'Comment" /></p></form></div>'
    )
    return (
        '<div id="comments" class="comments-area default-max-width show-avatars"><h2 class='
        f'"comments-title">{count} comments</h2><ol class="comment-list">{"".join(items)}'
        f"</ol>{form}</div>"
    )


def _related(rng: random.Random, base: str) -> str:
    posts = []
    for k in range(6):
        head = _NEWS[rng.randrange(len(_NEWS))]
        posts.append(
            f'<div class="jp-relatedposts-post jp-relatedposts-post{k} jp-relatedposts-post-'
            f'thumbs" data-post-id="{k}" data-post-format="false"><a class="jp-relatedposts-'
            f'post-a" href="{base}/related-{k}/" title="{html.escape(head[0][:80])}" rel='
            f'"nofollow"><img loading="lazy" class="jp-relatedposts-post-img" src="{base}/r{k}'
            '.jpg" width="350" height="200" alt="" /></a><h4 class="jp-relatedposts-post-'
            f'title"><a href="{base}/related-{k}/">{html.escape(head[0][:80])}</a></h4><p '
            f'class="jp-relatedposts-post-excerpt">{html.escape(" ".join(head[1:3]))}</p>'
            '<p class="jp-relatedposts-post-date">November 25, 2026</p></div>'
        )
    return (
        '<div id="jp-relatedposts" class="jp-relatedposts"><h3 class="jp-relatedposts-'
        f'headline"><em>Related</em></h3><div class="jp-relatedposts-items">{"".join(posts)}'
        "</div></div>"
    )


def _widgets(rng: random.Random, base: str) -> str:
    recent = "".join(
        f'<li><a href="{base}/recent-{k}/">{html.escape(_NEWS[rng.randrange(len(_NEWS))][0][:70])}'
        "</a></li>"
        for k in range(10)
    )
    categories = "".join(
        f'<li class="cat-item cat-item-{k}"><a href="{base}/category/{t.lower()}/">{t}</a> '
        f"({rng.randint(10, 900)})</li>"
        for k, t in enumerate(_REGIONS + _TOPICS)
    )
    tags = "".join(
        f'<a href="{base}/tag/t{k}/" class="tag-cloud-link tag-link-{k}" style="font-size: '
        f'{rng.randint(8, 22)}pt;" aria-label="tag {k} ({k} items)">tag {k}</a>'
        for k in range(50)
    )
    months = "".join(
        f"<li><a href='{base}/2026/{m:02d}/'>2026-{m:02d}</a></li>" for m in range(1, 13)
    )
    return (
        '<aside class="widget-area"><section id="recent-posts-2" class="widget widget_recent_'
        f'entries"><h2 class="widget-title">Recent Posts</h2><nav><ul>{recent}</ul></nav>'
        '</section><section id="categories-2" class="widget widget_categories"><h2 class="'
        f'widget-title">Categories</h2><nav><ul>{categories}</ul></nav></section><section '
        'id="tag_cloud-2" class="widget widget_tag_cloud"><h2 class="widget-title">Tags</h2>'
        f'<div class="tagcloud">{tags}</div></section><section id="archives-2" class="widget '
        f'widget_archive"><h2 class="widget-title">Archives</h2><ul>{months}</ul></section>'
        "</aside>"
    )


def wordpress_page(number: int, base: str = "https://caucasus-wire.example") -> str:
    """Article page ``number`` (the same number gives the same page)."""
    rng = random.Random(number)
    url = f"{base}/{2026}/11/26/story-{number}/"
    image = f"{base}/wp-content/uploads/2026/11/photo-{number}.jpg"
    region = _REGIONS[number % len(_REGIONS)]
    title, content = _article(rng, number, url, image)
    published = "2026-11-26T09:30:00+04:00"
    body = (
        f'<body class="post-template-default single single-post postid-{number} single-format-'
        'standard wp-embed-responsive is-light-theme singular has-main-navigation"><div id="page"'
        ' class="site"><a class="skip-link screen-reader-text" href="#content">Skip to content'
        '</a><header id="masthead" class="site-header has-title-and-tagline has-menu"><div '
        'class="site-branding"><p class="site-title"><a href="/" rel="home">Caucasus Wire</a>'
        f'</p><p class="site-description">News from the Caucasus</p></div>{_menu(rng, base)}'
        '</header><div id="content" class="site-content"><div id="primary" class="content-'
        f'area"><main id="main" class="site-main"><article id="post-{number}" class="post-'
        f"{number} post type-post status-publish format-standard has-post-thumbnail hentry "
        f'category-{region.lower().replace(" ", "-")}"><header class="entry-header alignwide">'
        f'<h1 class="entry-title">{html.escape(title)}</h1><figure class="post-thumbnail"><img'
        f' width="1568" height="1045" src="{image}" class="attachment-post-thumbnail size-post'
        '-thumbnail wp-post-image" alt="" decoding="async" fetchpriority="high" /></figure>'
        f'</header><div class="entry-content">{content}{_related(rng, base)}</div><footer '
        'class="entry-footer default-max-width"><div class="posted-by"><span class="posted-'
        f'on">Published <time class="entry-date published" datetime="{published}">November '
        '26, 2026</time></span><span class="byline">By <a href="/author/staff/" rel="author">'
        'Staff</a></span></div><div class="post-taxonomies"><span class="cat-links">'
        f'Categorized as <a href="{base}/category/{region.lower()}/" rel="category tag">'
        f'{region}</a></span></div></footer><div class="author-bio show-avatars"><h2 class='
        '"author-title">By Staff</h2><p class="author-description">Reporting from Tbilisi, '
        "Yerevan and Baku.</p></div></article>"
        f"{_comments(rng, rng.randint(12, 30))}"
        '<nav class="navigation post-navigation" aria-label="Posts"><div class="nav-links">'
        f'<div class="nav-previous"><a href="{base}/prev/" rel="prev">Previous post</a></div>'
        f'<div class="nav-next"><a href="{base}/next/" rel="next">Next post</a></div></div>'
        f"</nav></main></div></div>{_widgets(rng, base)}"
        '<footer id="colophon" class="site-footer"><div class="site-info"><div class="site-'
        'name">Caucasus Wire</div><div class="privacy-policy"><a href="/privacy/">Privacy '
        'Policy</a></div><div class="powered-by">Proudly powered by WordPress.</div></div>'
        "</footer></div><script src='/wp-includes/js/comment-reply.min.js?ver=6.4.2' id="
        "'comment-reply-js' async data-wp-strategy='async'></script><script id='twenty-"
        "twenty-one-ie11-polyfills-js-after'>( Element.prototype.matches && Element.prototype"
        ".closest && window.NodeList && NodeList.prototype.forEach ) || document.write( "
        "'<script src=\"/wp-content/themes/twentytwentyone/assets/js/polyfills.js\"></scr' + "
        "'ipt>' );</script></body></html>"
    )
    return _head(title, url, published, region, image) + body
