"""Browsing: the tree, names, info.json and attributes, as ls/stat/cat show them."""

import calendar
import json
import os
import stat
import time

from conftest import DB, SVC, SVC2, WWW, fsop, ls, run

NOW = "2026-11-20T10:00:00Z"


def epoch(rfc3339):
    return calendar.timegm(time.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ"))


def one_share(snapshots, share_name="vol"):
    return [{"id": SVC, "name": "svc", "shares": [
        {"id": WWW, "name": share_name, "snapshots": snapshots}]}]


def snap(n, name, **kw):
    body = {"id": "2f6d9c3b-8e1a-4b75-a0d4-%012d" % n, "name": name,
            "createdAt": "2026-11-2%dT10:00:00Z" % (n % 10)}
    body.update(kw)
    return body


def test_root_lists_services_by_name(mnt):
    assert ls(mnt.path) == ["efs-backup", "efs-prod"]


def test_service_holds_info_json_and_shares(mnt):
    assert ls(mnt / "efs-prod") == ["db", "info.json", "logs", "www"]


def test_share_holds_info_json_and_snapshots_dir(mnt):
    res = run(["ls", "-1a", str(mnt / "efs-prod" / "www")])
    assert res.stdout.split() == [".", "..", ".snapshots", "info.json"]


def test_snapshots_are_listed_by_name_else_id(mnt, sim):
    listed = ls(mnt / "efs-prod/www/.snapshots")
    api = [s for s in sim.snapshots() if s["status"] != "deleting"]
    named = {s["name"] for s in api if s["name"] and
             sum(1 for t in api if t["name"] == s["name"]) == 1}
    assert named <= set(listed)
    assert len(listed) == len(api)
    for s in api:
        assert (s["name"] in listed) != (s["id"] in listed)


def test_service_info_json_is_the_api_object_pretty_printed(mnt, sim):
    text = (mnt / "efs-prod/info.json").read_text()
    api = next(s for s in sim.state() if s["id"] == SVC)
    del api["shares"]
    assert json.loads(text) == api
    assert text.startswith('{\n  "') and text.endswith("}\n")


def test_share_info_json_keeps_every_field(mnt, sim):
    text = (mnt / "efs-prod/db/info.json").read_text()
    api = next(sh for s in sim.state() for sh in s["shares"] if sh["id"] == DB)
    del api["snapshots"], api["accessPaths"]  # the simulator's nesting, not fields
    assert json.loads(text) == api
    assert list(json.loads(text)) == list(api)  # the API's field order is kept


def test_info_json_size_from_stat_equals_bytes_read(mnt):
    for rel in ["efs-prod/info.json", "efs-prod/www/info.json",
                "efs-prod/www/.snapshots/before-upgrade/info.json"]:
        path = mnt / rel
        assert os.stat(path).st_size == len(path.read_bytes())


def test_snapshot_info_json_is_the_snapshot(mnt, sim):
    info = json.loads((mnt / "efs-prod/www/.snapshots/before-upgrade/info.json").read_text())
    api = next(s for s in sim.snapshots() if s["name"] == "before-upgrade")
    assert info == api


def test_snapshot_mtime_is_created_at(mounts, sim):
    sim.seed(one_share([snap(1, "a", createdAt="2026-11-21T10:00:00Z")]))
    mnt = mounts()
    st = os.stat(mnt / "svc/vol/.snapshots/a")
    assert st.st_mtime == epoch("2026-11-21T10:00:00Z")
    assert stat.S_ISDIR(st.st_mode)


def test_snapshots_dir_mtime_is_newest_and_nlink_counts_entries(mounts, sim):
    sim.seed(one_share([snap(1, "a", createdAt="2026-11-21T10:00:00Z"),
                        snap(2, "b", createdAt="2026-11-22T10:00:00Z")]))
    mnt = mounts()
    st = os.stat(mnt / "svc/vol/.snapshots")
    assert st.st_mtime == epoch("2026-11-22T10:00:00Z")
    assert st.st_nlink == 4


def test_deleting_snapshots_are_not_listed(mounts, sim):
    sim.seed(one_share([snap(1, "kept"), snap(2, "going", status="deleting")]))
    mnt = mounts()
    assert ls(mnt / "svc/vol/.snapshots") == ["kept"]
    assert fsop("stat", mnt / "svc/vol/.snapshots/going") == "ENOENT"


def test_edge_names_fall_back_to_ids(mounts, sim):
    long_ok = "n" * 255
    snaps = [snap(1, "dup"), snap(2, "dup"), snap(3, None), snap(4, ""),
             snap(5, "a/b"), snap(6, ".."), snap(7, "."), snap(8, "info.json"),
             snap(9, ".snapshots"), snap(10, "x" * 256), snap(11, long_ok),
             snap(12, "été-日本-🙂"), snap(13, "plain")]
    sim.seed(one_share(snaps))
    mnt = mounts()
    listed = set(os.listdir(mnt / "svc/vol/.snapshots"))
    by_id = {s["id"] for s in snaps[:10]}
    assert listed == by_id | {long_ok, "été-日本-🙂", "plain"}


def test_a_name_equal_to_another_id_is_listed_by_id(mounts, sim):
    other = snap(2, "b")
    sim.seed(one_share([snap(1, other["id"]), other]))
    mnt = mounts()
    assert sorted(os.listdir(mnt / "svc/vol/.snapshots")) == sorted(
        [snap(1, "")["id"], "b"])


def test_every_entry_is_reachable_by_id_but_listed_once(mnt, sim):
    s = next(s for s in sim.snapshots() if s["name"] == "before-upgrade")
    by_id = mnt / "efs-prod/www/.snapshots" / s["id"]
    assert json.loads((by_id / "info.json").read_text())["name"] == "before-upgrade"
    assert s["id"] not in ls(mnt / "efs-prod/www/.snapshots")
    assert ls(mnt / SVC2)  # services by id too
    assert ls(mnt / SVC / WWW / ".snapshots")  # and shares


def test_missing_paths_are_enoent(mnt):
    for rel in ["nope", "efs-prod/nope", "efs-prod/www/nope", "efs-prod/www/.snapshots/nope",
                "efs-prod/www/.snapshots/before-upgrade/nope", "efs-prod/www/.snapshot"]:
        assert fsop("stat", mnt / rel) == "ENOENT", rel


def test_info_json_is_not_a_directory(mnt):
    assert fsop("stat", mnt / "efs-prod/info.json/x") == "ENOTDIR"


def test_service_option_shows_only_that_service(mounts, sim):
    m = mounts(["service=" + SVC2])
    assert ls(m.path) == ["efs-backup"]


def test_service_option_takes_several_ids(mounts, sim):
    m = mounts(["service=%s:%s" % (SVC2, SVC)])
    assert ls(m.path) == ["efs-backup", "efs-prod"]


def test_files_are_read_only_and_nothing_else_can_be_made(mnt):
    info = mnt / "efs-prod/www/info.json"
    assert oct(os.stat(info).st_mode & 0o777) == "0o444"
    assert fsop("write", info) == "EACCES"
    assert fsop("unlink", info) == "EPERM"
    assert fsop("create", mnt / "efs-prod/www/.snapshots/newfile") == "EPERM"
    assert fsop("create", mnt / "efs-prod/new") == "EPERM"
    assert "Operation not permitted" in run(["chmod", "600", str(info)]).stderr
    assert run(["touch", str(info)]).returncode != 0


def test_statfs_answers(mnt):
    res = run(["stat", "-f", "-c", "%l", str(mnt.path)])
    assert res.stdout.strip() == "255"


def test_uid_gid_umask_options_apply(mounts, sim):
    m = mounts(["uid=1234", "gid=4321", "umask=027", "allow_other", "default_permissions"])
    st = os.stat(m / "efs-prod/www/info.json")
    assert (st.st_uid, st.st_gid) == (1234, 4321)
    assert stat.S_IMODE(st.st_mode) == 0o440  # 0444 less the umask: never executable
    assert stat.S_IMODE(os.stat(m / "efs-prod").st_mode) == 0o550
    assert stat.S_IMODE(os.stat(m / "efs-prod/www/.snapshots").st_mode) == 0o750
    assert "allow_other" in open("/proc/self/mounts").read().split(str(m.path))[1].split("\n")[0]


def test_a_service_named_like_the_status_file_is_listed_by_its_id(mounts, sim):
    """A service called .ovhsnapfs would be hidden by MOUNT/.ovhsnapfs: it goes by its id."""
    sim.seed([{"id": SVC, "name": ".ovhsnapfs", "shares": [
        {"id": WWW, "name": "vol", "snapshots": [snap(1, "daily")]}]}])
    m = mounts()
    assert ls(m.path) == [SVC]
    assert ls(m / SVC / "vol" / ".snapshots") == ["daily"]
    assert fsop("mkdir", m / SVC / "vol" / ".snapshots" / ".ovhsnapfs") == "EINVAL"
    res = run(["cat", str(m / ".ovhsnapfs")])
    assert res.returncode == 0 and '"version"' in res.stdout  # still the status file
