"""Theme and CSS of the chat app (passed to `launch()`, as Gradio 6 expects).

Colours come from Gradio's theme variables, so light and dark mode (`?__theme=dark`) both keep
readable contrast; the only own colours are borders and a rank badge checked in both themes.
"""

from __future__ import annotations

import gradio as gr


def theme() -> gr.themes.Base:
    """Soft theme with its subdued text and primary buttons darkened to reach WCAG AA (4.5:1)."""
    return gr.themes.Soft(primary_hue="indigo", secondary_hue="blue", neutral_hue="slate").set(
        body_text_color_subdued="*neutral_600", body_text_color_subdued_dark="*neutral_300",
        button_primary_background_fill="*primary_600", button_primary_background_fill_dark="*primary_600",
        button_primary_background_fill_hover="*primary_700", button_primary_background_fill_hover_dark="*primary_500",
        button_primary_text_color="white", button_primary_text_color_dark="white")


CSS = """
.mr-header h1 { margin-bottom: 0.1rem; }
.mr-header p { margin-top: 0; color: var(--body-text-color-subdued); }
.mr-cards { display: flex; flex-direction: column; gap: 0.5rem; }
.mr-cards-head { margin-bottom: 0.1rem; }
.mr-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 0.55rem 0.75rem;
           background: var(--background-fill-primary); color: var(--body-text-color); }
.mr-card-title { font-size: 1.05em; display: flex; align-items: baseline; gap: 0.45rem; }
.mr-rank { display: inline-block; min-width: 1.5em; text-align: center; border-radius: 999px;
           background: var(--color-accent); color: #ffffff; font-weight: 700; font-size: 0.85em; }
.mr-year { color: var(--body-text-color-subdued); }
.mr-genres { font-size: 0.9em; color: var(--body-text-color-subdued); }
.mr-reason { margin-top: 0.2rem; }
.mr-cites { margin-top: 0.2rem; font-size: 0.85em; color: var(--body-text-color-subdued); }
.mr-cites code { font-size: 0.95em; }
.mr-fb-row { align-items: center !important; border-bottom: 1px solid var(--border-color-primary);
             padding: 0.15rem 0; }
.mr-fb-row > .mr-fb-title { flex: 1 1 10rem !important; min-width: 10rem !important; }
.mr-fb-row button { white-space: nowrap; }
#memory-table td, #memory-table th { font-size: 0.85em; }
.mr-fb-done { color: var(--body-text-color-subdued); }
.mr-danger button, button.mr-danger { font-weight: 600; }
"""
