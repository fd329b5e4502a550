"""Bash completion of ovhsnapfs-auto: its options, --label's values and the DIRs of a mount."""

import shlex

from conftest import REPO, run

SCRIPT = REPO / "contrib" / "bash-completion" / "ovhsnapfs-auto"


def complete(*words, breaks=None):
    """What bash offers for the last of words (COMP_WORDS as bash splits them)."""
    words = ["ovhsnapfs-auto"] + [str(w) for w in words]
    setup = "COMP_WORDBREAKS=%s; " % shlex.quote(breaks) if breaks is not None else ""
    code = ("%ssource %s; complete -p ovhsnapfs-auto >/dev/null || exit 3; "
            "COMP_WORDS=(%s); COMP_CWORD=%d; _ovhsnapfs_auto; "
            "printf '%%s\\n' \"${COMPREPLY[@]}\""
            % (setup, shlex.quote(str(SCRIPT)), " ".join(shlex.quote(w) for w in words),
               len(words) - 1))
    res = run(["bash", "--norc", "--noprofile", "-c", code])
    assert res.returncode == 0 and res.stderr == "", (res.returncode, res.stderr)
    return sorted(line for line in res.stdout.splitlines() if line)


def test_options_and_their_values():
    assert complete("--") == ["--check", "--crit", "--dry-run", "--help", "--hook-timeout",
                              "--keep", "--label", "--min-free", "--no-create", "--post",
                              "--pre", "--prefix", "--preserve", "--preserve-min", "--quiet",
                              "--version", "--warn"]
    assert complete("--la") == ["--label"]
    assert complete("--no") == ["--no-create"]
    assert complete("--label", "") == ["daily", "gfs", "hourly", "monthly", "weekly"]
    assert complete("--label", "w") == ["weekly"]
    assert complete("--keep", "") == [] and complete("--prefix", "") == []
    # --label=VALUE: split at '=' by default, whole when '=' is no word break
    assert complete("--label", "=") == ["daily", "gfs", "hourly", "monthly", "weekly"]
    assert complete("--dry-run", "--label", "=", "mo") == ["monthly"]
    assert complete("--label=h", breaks=" \t\n") == ["--label=hourly"]
    assert complete("--keep", "=", "7", "--dr") == ["--dry-run"]  # the value is skipped


def test_new_options_values_and_skipped_values(tmp_path):
    assert complete("--preserve", "") == ["24h,7d,4w,12m"]
    assert complete("--preserve=2", breaks=" \t\n") == ["--preserve=24h,7d,4w,12m"]
    for opt in ("--preserve-min", "--hook-timeout", "--warn", "--crit", "--min-free"):
        assert complete(opt, "") == []
    (tmp_path / "freeze.sh").write_text("")
    assert complete("--pre", tmp_path / "fr") == [str(tmp_path / "freeze.sh")]
    assert complete("--post", "=", tmp_path / "fr") == [str(tmp_path / "freeze.sh")]
    # a value that starts with '-' is still a value, not the end of the options
    assert complete("--check", "--warn", "90m", "--crit", "2d", "--min") == ["--min-free"]
    assert complete("--pre", "-x", "--hook") == ["--hook-timeout"]


def test_dirs_of_a_mount_and_no_option_after_the_first_dir(mnt):
    assert complete("--label", "daily", "--keep", "7", mnt / "efs-prod" / "w") == [
        str(mnt / "efs-prod" / "www")]
    assert complete("--keep", "7", mnt / "efs-prod" / "www" / ".sn") == [
        str(mnt / "efs-prod" / "www" / ".snapshots")]
    # info.json is a file: never offered as a DIR
    assert complete(str(mnt / "efs-prod") + "/") == sorted(
        str(mnt / "efs-prod" / s) for s in ("www", "db", "logs"))
    # getopt stops at the first DIR: what follows is a DIR even when it starts with '-'
    assert complete(mnt / "efs-prod", "--") == []
    assert complete("--", "--") == []
