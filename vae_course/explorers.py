"""The explorers' base class and controls; each notebook's explorers are in nbNN/explorers.py.

Explorers are thin glue between ipywidgets controls, a compute function and a plotting view.

Callbacks only set widget state (the PNG bytes of an `Image`, the HTML of a readout) and never
print or display, so nbval stays strict and the explorers work alike in JupyterLab, Notebook 7,
VS Code and Voila. Every explorer keeps what it last computed in `.state`, for tests and for
curious learners.
"""

from __future__ import annotations

import html
from typing import Callable

import ipywidgets as widgets

SLIDER_LAYOUT = widgets.Layout(width="340px")


SLIDER_STYLE = {"description_width": "90px"}


def slider(description: str, value: float, lo: float, hi: float, step: float) -> widgets.FloatSlider:
    """A float slider with the course's look (live updates, 2-decimal readout)."""
    return widgets.FloatSlider(value=value, min=lo, max=hi, step=step, description=description,
                               continuous_update=True, readout_format=".2f",
                               layout=SLIDER_LAYOUT, style=SLIDER_STYLE)


def dropdown(description: str, options, value) -> widgets.Dropdown:
    """A dropdown with the course's look."""
    return widgets.Dropdown(options=options, value=value, description=description,
                            layout=SLIDER_LAYOUT, style=SLIDER_STYLE)


class Explorer:
    """Controls → `render(values) -> (png_bytes, readout_html)` → an Image and an HTML readout.

    `controls` maps a name to a widget with a `.value`; moving any of them calls `refresh()`.
    An exception in `render` becomes a readable message in the readout instead of a traceback.
    """

    name = "explorer"

    def __init__(self, controls: dict[str, widgets.ValueWidget], render: Callable[[dict], tuple[bytes, str]],
                 caption: str = ""):
        self.controls = controls
        self._render = render
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.readout = widgets.HTML(layout=widgets.Layout(min_height="3em", margin="0 0 0 16px"))
        self.updates = 0
        for control in controls.values():
            control.observe(self._on_change, names="value")
        rows = [widgets.HTML(f"<b>{html.escape(caption)}</b>")] if caption else []
        self.widget = widgets.VBox(rows + [widgets.HBox([widgets.VBox(list(controls.values())), self.readout]),
                                           self.image])
        # CSS classes let a browser test find every explorer, its class, its readout and its image.
        self.widget.add_class("vc-explorer").add_class(f"vc-{type(self).__name__}")
        self.readout.add_class("vc-readout")
        self.image.add_class("vc-image")
        self.refresh()

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, _change) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Recompute and redraw for the current control values."""
        try:
            png, readout = self._render(self.values())
        except (ValueError, TypeError) as err:
            self.readout.value = f"<span style='color:#b30000'>⚠ {html.escape(str(err))}</span>"
            return
        if self.updates == 0 and png[:8] == b"\x89PNG\r\n\x1a\n":
            width = int.from_bytes(png[16:20], "big")  # show the picture at its own size, never stretched
            self.image.layout.width = f"{width}px"
        self.image.value = png
        # an HTML widget keeps one line's height in some front-ends: reserve room for every line
        lines = readout.count("<br") + readout.count("<tr") + 1
        self.readout.layout.min_height = f"{1.5 * lines + 0.5:g}em"
        self.readout.value = readout
        self.updates += 1

    def _repr_mimebundle_(self, **kwargs):
        data = self.widget._repr_mimebundle_(**kwargs)
        data["text/plain"] = f"[{self.name}: an interactive widget; run this cell in Jupyter to use it]"
        return data


def int_slider(description: str, value: int, lo: int, hi: int) -> widgets.IntSlider:
    """A whole-number slider with the course's look."""
    return widgets.IntSlider(value=value, min=lo, max=hi, description=description, continuous_update=True,
                             layout=SLIDER_LAYOUT, style=SLIDER_STYLE)
