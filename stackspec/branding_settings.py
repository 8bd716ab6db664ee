"""The branding part of stack settings: icon, logo, colours, and an optional connected account.

`read_branding` reads `billing-portal:branding`. Image paths are relative to the project
directory (where Pulumi.yaml is); each file is read once, here, and checked against the limits
of Stripe's branding settings, so what `pulumi up` uploads is exactly what passed the checks:

- PNG or JPEG (the Files API also takes GIF for `business_icon`/`business_logo`, but the
  Dashboard's branding page, where the account's own branding is set, accepts only JPG or PNG);
- smaller than 512 KB (Stripe: "less than 512kb"; the Files API's limit for both purposes);
- at least 128×128 pixels, and the icon square.

The headline is not here: it is the portal configuration's `businessProfile.headline`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from stackspec.images import ImageError, image_info
from stackspec.reader import Section, config_set

MAX_IMAGE_BYTES = 512 * 1024
MIN_IMAGE_SIDE = 128
IMAGE_FORMATS = ("png", "jpeg")
ICON_PURPOSE = "business_icon"
LOGO_PURPOSE = "business_logo"
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
_ACCOUNT = re.compile(r"acct_[A-Za-z0-9]+")
_EXTENSIONS = {"png": ".png", "jpeg": ".jpg"}


@dataclass(frozen=True)
class BrandImage:
    """An image file of the repository, read and checked; `data` is its exact content."""

    path: str  # as declared: relative to the project directory, `/`-separated
    purpose: str  # the Stripe file purpose it is uploaded with
    format: str  # png | jpeg
    width: int
    height: int
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def upload_name(self) -> str:
        """The file name Stripe keeps: the file's stem and the start of its content hash
        (`icon-1a2b3c4d5e6f.png`), so a Stripe file says which image it holds."""
        return f"{PurePosixPath(self.path).stem}-{self.sha256[:12]}{_EXTENSIONS[self.format]}"


@dataclass(frozen=True)
class BrandingSettings:
    """The brand a stack declares. Nothing set: the stack leaves branding alone."""

    icon: BrandImage | None = None
    logo: BrandImage | None = None
    primary_color: str | None = None
    secondary_color: str | None = None
    connected_account: str | None = None  # acct_…: also apply the branding there (Connect)

    @property
    def declared(self) -> bool:
        return any((self.icon, self.logo, self.primary_color, self.secondary_color))

    @property
    def images(self) -> tuple[BrandImage, ...]:
        return tuple(image for image in (self.icon, self.logo) if image is not None)


def read_branding(section: Section, project_dir: Path) -> BrandingSettings:
    """Read `billing-portal:branding`, reading and checking its image files."""
    icon = _image(section, "icon", ICON_PURPOSE, project_dir, square=True)
    logo = _image(section, "logo", LOGO_PURPOSE, project_dir, square=False)
    primary = _color(section, "primaryColor")
    secondary = _color(section, "secondaryColor")
    account = section.string("connectedAccount")
    if account is not None and not _ACCOUNT.fullmatch(account):
        section.add(
            "connectedAccount",
            f"{account!r} is not a Stripe account id",
            "use the connected account's id (acct_…), or remove the setting",
        )
        account = None
    branding = BrandingSettings(icon, logo, primary, secondary, account)
    if account and not branding.declared and not _names_any(section):
        section.add(
            "connectedAccount",
            "names a connected account but no branding to apply to it",
            "declare icon, logo, primaryColor or secondaryColor under branding, or remove "
            "connectedAccount",
        )
    if section.has("headline"):
        section.raw("headline")
        section.add(
            "headline",
            "is the portal's business profile headline, not an account branding setting",
            "move it to " + config_set("portal.businessProfile.headline", "'…'", path=True),
        )
    section.finish()
    return branding


def _names_any(section: Section) -> bool:
    # A named but invalid setting already has its problem; do not pile a second one on.
    return any(section.has(name) for name in ("icon", "logo", "primaryColor", "secondaryColor"))


def _color(section: Section, name: str) -> str | None:
    value = section.string(name)
    if value is None:
        return None
    if not _COLOR.fullmatch(value):
        section.add(
            name,
            f"{value!r} is not a hex colour #RRGGBB",
            config_set(f"branding.{name}", "'#0A2540'", path=True)
            + " (six hex digits after #; quote it, # starts a comment in the shell)",
        )
        return None
    return value


def _image(
    section: Section, name: str, purpose: str, project_dir: Path, *, square: bool
) -> BrandImage | None:
    declared = section.string(name)
    if declared is None:
        return None
    what = "icon" if square else "logo"
    fix_path = f"put the {what} in the repository (e.g. branding/{what}.png) and name its path"
    path = PurePosixPath(declared.replace("\\", "/"))
    if path.is_absolute() or re.match(r"^[A-Za-z]:", declared):
        section.add(name, f"{declared!r} is an absolute path", fix_path + " relative to it")
        return None
    root = project_dir.resolve()
    file = (root / path).resolve()
    if not file.is_relative_to(root):
        section.add(name, f"{declared!r} points outside the repository", fix_path)
        return None
    if not file.is_file():
        section.add(name, f"{declared!r} does not exist (relative to {root})", fix_path)
        return None
    data = file.read_bytes()
    try:
        info = image_info(data)
    except ImageError as error:
        section.add(name, f"{declared!r} is {error}", "save it as PNG or JPEG")
        return None
    problems = _image_problems(info.format, info.width, info.height, len(data), square=square)
    for problem, fix in problems:
        section.add(name, f"{declared!r} {problem}", fix)
    if problems:
        return None
    return BrandImage(path.as_posix(), purpose, info.format, info.width, info.height, data)


def _image_problems(
    fmt: str, width: int, height: int, size: int, *, square: bool
) -> list[tuple[str, str]]:
    """Each way an image breaks Stripe's branding limits: (problem, fix)."""
    problems = []
    if fmt not in IMAGE_FORMATS:
        problems.append(
            (
                f"is a {fmt.upper()}; Stripe's branding settings accept only PNG or JPEG",
                "save it as PNG or JPEG",
            )
        )
    if size >= MAX_IMAGE_BYTES:
        problems.append(
            (
                f"is {size:,} bytes; Stripe accepts branding images under 512 KB "
                f"({MAX_IMAGE_BYTES:,} bytes)",
                "compress it or reduce its pixel size",
            )
        )
    if width < MIN_IMAGE_SIDE or height < MIN_IMAGE_SIDE:
        problems.append(
            (
                f"is {width}×{height} px; Stripe needs at least {MIN_IMAGE_SIDE}×{MIN_IMAGE_SIDE}",
                f"use an image at least {MIN_IMAGE_SIDE} px wide and high",
            )
        )
    if square and width != height:
        problems.append(
            (
                f"is {width}×{height} px; Stripe's icon must be square",
                "crop it to a square (e.g. 256×256); a wide image belongs in branding.logo",
            )
        )
    return problems
