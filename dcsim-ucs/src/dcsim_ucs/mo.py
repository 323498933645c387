"""Managed objects: a class id, a DN, string properties and children, as XML elements."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import attrs

from dcsim_ucs.classes import split_dn


@attrs.define(kw_only=True)
class Mo:
    """One managed object of the tree."""

    class_id: str
    dn: str
    attrs: dict[str, str] = attrs.field(factory=dict)

    @property
    def rn(self) -> str:
        """The relative name: the DN's last part."""
        return split_dn(self.dn)[1]

    @property
    def parent_dn(self) -> str:
        """The parent's DN ("" for objects under the root)."""
        return split_dn(self.dn)[0]


class Tree:
    """Managed objects by DN, with each object's children in the order they were added."""

    def __init__(self) -> None:
        self.objects: dict[str, Mo] = {}
        self._children: dict[str, list[str]] = {}
        #: Simulation facts behind objects, never rendered: blade DN -> blade name,
        #: profile DN -> its current firmware policy.
        self.blade_names: dict[str, str] = {}
        self.firmware: dict[str, str] = {}

    def copy(self) -> Tree:
        """A copy whose objects can be changed without touching this tree."""
        other = Tree()
        other.objects = {
            dn: Mo(class_id=mo.class_id, dn=mo.dn, attrs=dict(mo.attrs)) for dn, mo in self.objects.items()
        }
        other._children = {dn: list(children) for dn, children in self._children.items()}
        other.blade_names = dict(self.blade_names)
        other.firmware = dict(self.firmware)
        return other

    def __contains__(self, dn: str) -> bool:
        return dn in self.objects

    def add(self, mo: Mo) -> Mo:
        """Add ``mo`` (replacing an object of the same DN, which keeps its place)."""
        if mo.dn not in self.objects:
            self._children.setdefault(mo.parent_dn, []).append(mo.dn)
        self.objects[mo.dn] = mo
        return mo

    def remove(self, dn: str) -> None:
        """Remove the object at ``dn`` and everything under it."""
        for child in list(self._children.get(dn, [])):
            self.remove(child)
        self._children.pop(dn, None)
        mo = self.objects.pop(dn, None)
        if mo is not None:
            self._children[mo.parent_dn].remove(dn)

    def get(self, dn: str) -> Mo | None:
        """The object at ``dn``, None if there is none."""
        return self.objects.get(dn)

    def children(self, dn: str) -> list[Mo]:
        """The direct children of ``dn``."""
        return [self.objects[child] for child in self._children.get(dn, [])]

    def descendants(self, dn: str) -> list[Mo]:
        """Everything under ``dn`` (not ``dn`` itself), parents before children."""
        out: list[Mo] = []
        for child in self.children(dn):
            out.append(child)
            out.extend(self.descendants(child.dn))
        return out

    def of_class(self, class_id: str) -> list[Mo]:
        """Every object of ``class_id``, in tree order."""
        return [mo for mo in self.walk() if mo.class_id == class_id]

    def walk(self) -> list[Mo]:
        """Every object, parents before children."""
        out: list[Mo] = []
        for top in self.children(""):
            out.append(top)
            out.extend(self.descendants(top.dn))
        return out

    def element(self, mo: Mo, *, hierarchical: bool = False, status: str | None = None) -> ET.Element:
        """``mo`` as an XML element; with ``hierarchical`` its whole subtree too."""
        element = ET.Element(mo.class_id, {"dn": mo.dn, **mo.attrs})
        if status:
            element.set("status", status)
        if hierarchical:
            for child in self.children(mo.dn):
                element.append(self.element(child, hierarchical=True))
        return element
