"""``ccus-cardreader``: the site agent and the card tools.

On the site PC:   ccus-cardreader run --portal URL --site 現場ID --outbox FILE   (device key in CCUS_DEVICE_KEY
                  or --key-file: never on the command line, where every user of the PC can read it)
                  ccus-cardreader read-uid        (shows the UID of the card on the reader)
                  ccus-cardreader status --outbox FILE
On the portal:    ccus-cardreader enrol --worker 技能者ID --uid UID    ccus-cardreader unenrol --uid UID
                  (operators; employers use the screen ICカードの登録)
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path

import click


@click.group()
@click.option("-v", "--verbose", is_flag=True)
def main(verbose: bool) -> None:
    """ICカードリーダー: site agent and card enrolment for ccus-portal."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(message)s")


def _key(key_file: str | None) -> str:
    key = Path(key_file).read_text().strip() if key_file else os.environ.get("CCUS_DEVICE_KEY", "").strip()
    if not key:
        raise click.ClickException("機器キーがありません。CCUS_DEVICE_KEY か --key-file で指定してください。")
    return key


@main.command()
@click.option("--portal", "portal_url", required=True, help="ポータルのURL (例 https://ccus.example.jp)")
@click.option("--site", "site_id", required=True, help="この機器の現場ID（14桁）")
@click.option("--outbox", "outbox_path", required=True, type=click.Path(dir_okay=False),
              help="未送信イベントを保存する SQLite ファイル")
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False), help="機器キーのファイル")
@click.option("--kind", type=click.Choice(["entry", "exit", "work"]), default="entry", show_default=True)
@click.option("--reader", default=None, help="使うリーダー名の一部（省略時はすべて）")
@click.option("--backoff-max", type=float, default=300.0, show_default=True, help="再送間隔の上限（秒）")
@click.option("--same-card-window", type=click.FloatRange(0, 3600), default=60.0, show_default=True,
              help="同じカードの再タッチを同じ打刻とみなす秒数（0で無効）")
def run(portal_url, site_id, outbox_path, key_file, kind, reader, backoff_max, same_card_window) -> None:
    """カードのタッチを記録し、ポータルへ送信し続ける。"""
    from ccus_cardreader.agent import Agent, AgentConfig

    config = AgentConfig(portal_url=portal_url, device_key=_key(key_file), site_id=site_id,
                         outbox_path=Path(outbox_path), kind=kind, reader=reader, backoff_max=backoff_max,
                         same_card_window=same_card_window)
    agent = Agent(config).start()
    stopped = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopped.set())
    click.echo(f"読み取り待ち（現場 {site_id}、{kind}）", err=True)
    stopped.wait()
    agent.shutdown()


@main.command("read-uid")
@click.option("--reader", default=None)
@click.option("--timeout", type=float, default=30.0, show_default=True)
def read_uid(reader, timeout) -> None:
    """リーダー上のカード（なければ次に置かれたカード）のUIDを表示する。"""
    from ccus_cardreader import pcsc

    try:
        uid = pcsc.read_one(timeout=timeout, reader=reader)
    except pcsc.PcscError as e:
        raise click.ClickException(str(e))
    if uid is None:
        raise click.ClickException("カードが置かれませんでした。")
    click.echo(uid)


@main.command()
@click.option("--outbox", "outbox_path", required=True, type=click.Path(exists=True, dir_okay=False))
def status(outbox_path) -> None:
    """送信待ち・送信済み・受付拒否の件数を表示する。"""
    from ccus_cardreader.outbox import Outbox

    box = Outbox(outbox_path)
    counts = box.counts()
    labels = {"pending": "送信待ち", "accepted": "受付済み", "duplicate": "重複（受付済み）", "rejected": "受付拒否"}
    for key, label in labels.items():
        click.echo(f"{label}: {counts.get(key, 0)}")
    for event_id, reason, _event in box.rejected(10):
        click.echo(f"  拒否 {event_id}: {reason}")
    box.close()


@main.command()
@click.option("--worker", "worker_code", required=True, help="技能者ID（14桁）")
@click.option("--uid", required=True, help="カードUID（16進数）")
def enrol(worker_code, uid) -> None:
    """カードUIDを技能者に登録する（運用者向け。事業者は画面「ICカードの登録」から）。"""
    from ccus_cardreader.cards import enrol_card
    from portal.devices import DomainError, enrollable_worker, operator_context

    try:
        with operator_context():
            worker = enrollable_worker(worker_code)
            cred = enrol_card(worker, uid)
    except DomainError as e:
        raise click.ClickException(f"[{e.code}] {e.message}")
    click.echo(f"{worker}に{cred.label}を登録しました。")


@main.command()
@click.option("--uid", required=True, help="カードUID（16進数）")
def unenrol(uid) -> None:
    """カードUIDの登録を削除する（紛失したカードなど）。"""
    from ccus_cardreader.cards import find_card
    from portal.devices import DomainError, operator_context, remove_credential

    try:
        with operator_context():
            cred = find_card(uid)
            if cred is None:
                raise click.ClickException("このカードは登録されていません。")
            remove_credential(cred)
    except DomainError as e:
        raise click.ClickException(f"[{e.code}] {e.message}")
    click.echo(f"{cred.worker}の{cred.label}の登録を削除しました。")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
