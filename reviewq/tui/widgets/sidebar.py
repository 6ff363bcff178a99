"""The file sidebar: every file of the change with its status, size and viewed mark.

"Viewed" is the reviewer's own mark (`file.viewed`), stored keyed by the file's diff hash, so it
resets by itself when an agent changes the file again. The title counts "N/M viewed".
"""

from __future__ import annotations

from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Static
from textual.widgets.option_list import Option

from reviewq.core.model import FileDiff
from reviewq.tui.diff.view import STATUS_LETTER
from reviewq.tui.safe import safe_line
from reviewq.tui.widgets.lists import FileOptionList


class FileSidebar(Vertical):
    #: The review screen's zoom key fills the screen with it.
    ALLOW_MAXIMIZE = True
    DEFAULT_CSS = """
    FileSidebar { width: 28; min-width: 20; border-right: solid $panel; }
    FileSidebar > #files-title { height: 1; padding: 0 1; background: $panel; color: $text; }
    FileSidebar > FileOptionList { height: 1fr; border: none; padding: 0; background: $surface; }
    """

    class FileChosen(Message):
        def __init__(self, file: int) -> None:
            super().__init__()
            self.file = file

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.files: list[FileDiff] = []
        self.viewed: set[int] = set()
        self.collapsed: set[int] = set()

    def compose(self):
        yield Static(id="files-title")
        yield FileOptionList(id="file-list")

    @property
    def option_list(self) -> FileOptionList:
        return self.query_one(FileOptionList)

    def load(self, files: list[FileDiff], viewed: set[int], collapsed: set[int]) -> None:
        self.files = files
        self.viewed = set(viewed)
        self.collapsed = set(collapsed)
        options = self.option_list
        options.clear_options()
        options.add_options(Option(self._prompt(i), id=str(i)) for i in range(len(files)))
        if files:
            options.highlighted = 0
        self._title()

    def set_viewed(self, viewed: set[int]) -> None:
        changed = viewed.symmetric_difference(self.viewed)
        self.viewed = set(viewed)
        for i in changed:
            self.option_list.replace_option_prompt_at_index(i, self._prompt(i))
        self._title()

    def set_collapsed(self, collapsed: set[int]) -> None:
        changed = collapsed.symmetric_difference(self.collapsed)
        self.collapsed = set(collapsed)
        for i in changed:
            if i < len(self.files):
                self.option_list.replace_option_prompt_at_index(i, self._prompt(i))

    def follow(self, file: int) -> None:
        """Highlight the file the diff cursor is in, without stealing focus."""
        if 0 <= file < len(self.files) and self.option_list.highlighted != file:
            self.option_list.highlighted = file

    def _title(self) -> None:
        total = len(self.files)
        done = len(self.viewed)
        mark = " ✓" if total and done == total else ""
        self.query_one("#files-title", Static).update(
            Content(f"Files  {done}/{total} viewed{mark}")
        )

    def _prompt(self, i: int) -> Content:
        fd = self.files[i]
        tick = ("✓ ", "bold $diff-viewed-fg") if i in self.viewed else ("· ", "$text-muted")
        letter = STATUS_LETTER.get(fd.status, "M")
        fold = "▸" if i in self.collapsed else " "
        name = fd.path.rsplit("/", 1)[-1]
        folder = fd.path[: len(fd.path) - len(name)]
        size = "bin" if fd.is_binary else f"+{fd.additions} -{fd.deletions}"
        return Content.assemble(
            tick,
            (f"{letter}{fold} ", "bold"),
            safe_line(name, "bold"),
            " ",
            (size, "$text-muted"),
            "\n    ",
            safe_line(folder or "./", "$text-muted"),
        )

    def on_option_list_option_selected(self, event: FileOptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.FileChosen(int(event.option.id)))
