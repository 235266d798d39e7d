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
        button_primary_text_color="white", button_primary_text_color_dark="white",
        # variant="stop" (Stop, Delete entry, Forget me…): red outline, so a destructive action looks it
        # (#b91c1c on white 6.5:1; #fca5a5 on the dark background > 7:1).
        button_cancel_background_fill="*neutral_50", button_cancel_background_fill_dark="*neutral_800",
        button_cancel_background_fill_hover="#fee2e2", button_cancel_background_fill_hover_dark="#450a0a",
        button_cancel_text_color="#b91c1c", button_cancel_text_color_dark="#fca5a5",
        button_cancel_text_color_hover="#991b1b", button_cancel_text_color_hover_dark="#fecaca",
        button_cancel_border_color="#f87171", button_cancel_border_color_dark="#f87171",
        button_cancel_border_color_hover="#dc2626", button_cancel_border_color_hover_dark="#fca5a5")


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
/* A memory id as a chip: level and a few characters; the full id is its title (hover). */
.mr-chip { display: inline-block; font-family: var(--font-mono); font-size: 0.8em; line-height: 1.35;
           padding: 0 0.4em; border-radius: 999px; white-space: nowrap; cursor: help;
           border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary);
           color: var(--body-text-color); }
/* The message box and Send/Stop on one line, the same height, at every width. */
#composer { flex-wrap: nowrap !important; align-items: stretch; gap: 0.5rem; }
#composer > #message { flex: 1 1 auto !important; min-width: 0 !important; }
#composer > button { flex: 0 0 auto !important; min-width: 4.2rem !important; }
/* An empty send: the hint in the box is the accent colour, so it is seen. */
#message.mr-empty textarea::placeholder { color: var(--color-accent); opacity: 1; font-weight: 600; }
#message.mr-empty textarea { border-color: var(--color-accent); }
/* "Yes, forget me": the one destructive button that is filled. */
#forget-yes { background: #b91c1c !important; color: #ffffff !important; border-color: #b91c1c !important; }
#forget-yes:hover { background: #991b1b !important; }
/* Pop-ups at the bottom right, narrow and brief, not over the memory search at the top. */
.toast-wrap { top: auto !important; bottom: var(--size-4) !important; width: min(22rem, calc(100vw - 1.5rem)) !important; }
/* Phones: smaller Send/Stop, so the message box keeps its width; the three rating buttons share
   the line under the title. */
@media (max-width: 640px) {
  #composer > button { min-width: 3.4rem !important; padding-left: 0.55rem !important; padding-right: 0.55rem !important; }
  .mr-fb-row { flex-wrap: wrap !important; }
  .mr-fb-row > .mr-fb-title { flex: 1 1 100% !important; min-width: 0 !important; }
  .mr-fb-row > button { flex: 1 1 0 !important; min-width: 0 !important; padding-left: 0.3rem; padding-right: 0.3rem; }
}
"""
