#!/usr/bin/env python3
"""A GTK 3 window that offers files as a drag source, as a file manager does.

usage: dragsource.py X Y FILE...

The window (titled "drag source", 200x120) is placed at X,Y on the screen;
dragging from it offers FILE... as a text/uri-list. It prints "ready" once
shown, then "drag-failed <result>" or "drag-end" when a drag ends, and
quits when the drag is over.
"""
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, Gio, GLib, Gtk  # noqa: E402

x, y = int(sys.argv[1]), int(sys.argv[2])
uris = [Gio.File.new_for_path(p).get_uri() for p in sys.argv[3:]]

win = Gtk.Window(title="drag source")
win.set_default_size(200, 120)
win.move(x, y)
box = Gtk.EventBox()
box.add(Gtk.Label(label="%d clips" % len(uris)))
win.add(box)

box.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
box.drag_source_add_uri_targets()


def on_get(_widget, _ctx, data, _info, _time):
    data.set_uris(uris)


def on_failed(_widget, _ctx, result):
    print("drag-failed", result.value_nick, flush=True)
    return False


def on_end(_widget, _ctx):
    print("drag-end", flush=True)
    # The drop's data is read after the drop: give the target time to ask.
    GLib.timeout_add_seconds(5, Gtk.main_quit)


box.connect("drag-data-get", on_get)
box.connect("drag-failed", on_failed)
box.connect("drag-end", on_end)
win.connect("destroy", Gtk.main_quit)


def on_mapped(*_):
    print("ready", flush=True)


win.connect("map-event", on_mapped)
win.show_all()
Gtk.main()
