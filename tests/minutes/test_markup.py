import pytest
from reportlab.platypus import Paragraph

from minutes.pdf.layout import styles
from minutes.text import summary_html, summary_pdf_blocks

HOSTILE = [
    '<script>alert("x")</script>',
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">clic</a>',
    "**<b onmouseover=alert(1)>bold</b>**",
    '"><svg/onload=alert(1)>',
    "<iframe src=//evil></iframe>",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_html_typed_by_the_clerk_is_shown_never_run(source):
    out = summary_html(source)
    assert "<script" not in out
    assert "<img" not in out
    assert "<a " not in out
    assert "<svg" not in out
    assert "<iframe" not in out
    assert "onerror=" not in out.replace("onerror=&quot;", "") or "&lt;" in out
    assert "&lt;" in out  # the tag is visible as text


def test_small_formatting_language():
    out = summary_html(
        "Le **budget** est *équilibré*.\n\n- premier point\n- second point"
    )
    assert out == (
        "<p>Le <strong>budget</strong> est <em>équilibré</em>.</p>"
        "<ul><li>premier point</li><li>second point</li></ul>"
    )


def test_line_breaks_inside_a_paragraph():
    assert summary_html("ligne 1\nligne 2") == "<p>ligne 1<br>ligne 2</p>"


def test_pdf_markup_is_escaped_too():
    blocks = summary_pdf_blocks('<font color="red">x</font> **gras**')
    assert blocks == [("p", '&lt;font color="red"&gt;x&lt;/font&gt; <b>gras</b>')]


def test_empty_summary():
    assert summary_html("") == ""
    assert summary_pdf_blocks("   \n\n ") == []


@pytest.mark.parametrize(
    "source",
    [
        "**a *b** c*",
        "*a **b* c**",
        "***x***",
        "<b>**x</b>**",
        "O'Brien & fils <i>",
        "- **un\n- *deux",
    ],
)
def test_badly_nested_emphasis_still_builds_a_pdf(source):
    for _kind, markup in summary_pdf_blocks(source):
        Paragraph(markup, styles().body).wrap(400, 800)  # parses or raises
