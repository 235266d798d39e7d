"""The Gradio user interface (the only place Gradio is imported)."""
