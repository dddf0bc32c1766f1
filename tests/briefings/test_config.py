"""The media plane's settings are checked at load and name the key that is wrong."""

from __future__ import annotations

import os

import pytest

from meetings.briefings.config import BriefingsConfig
from server.errors import ConfigError


def test_defaults_and_values() -> None:
    assert BriefingsConfig.from_env({}) == BriefingsConfig()
    config = BriefingsConfig.from_env(
        {
            "LIENTHONG_BRIEFINGS_ICE_ADDRESSES": "10.0.0.5, 2001:db8::1",
            "LIENTHONG_BRIEFINGS_UPSTREAM_NODES": "https://hop.tinh.example.vn/,http://10.1.0.1:8080",
            "LIENTHONG_BRIEFINGS_LAST_N": "6",
        }
    )
    assert config.ice_addresses == ("10.0.0.5", "2001:db8::1")
    assert config.last_n == 6
    assert config.upstream_allowed("https://hop.tinh.example.vn")
    assert config.upstream_allowed("https://hop.tinh.example.vn:8443/x")
    assert config.upstream_allowed("http://10.1.0.1:8080")
    assert not config.upstream_allowed("http://10.1.0.1:8081")
    assert not config.upstream_allowed("http://hop.tinh.example.vn")  # scheme matters
    assert not config.upstream_allowed("https://evil.example")


def test_workers_one_per_core_or_a_number() -> None:
    assert BriefingsConfig().workers == 1  # one process unless asked
    auto = BriefingsConfig.from_env({"LIENTHONG_BRIEFINGS_WORKERS": "auto"})
    assert auto.workers == (os.cpu_count() or 1)
    assert BriefingsConfig.from_env({"LIENTHONG_BRIEFINGS_WORKERS": "3"}).workers == 3


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("LIENTHONG_BRIEFINGS_ICE_ADDRESSES", "eth0"),
        ("LIENTHONG_BRIEFINGS_UPSTREAM_NODES", "ftp://x"),
        ("LIENTHONG_BRIEFINGS_LAST_N", "-1"),
        ("LIENTHONG_BRIEFINGS_LAST_N", "99"),
        ("LIENTHONG_BRIEFINGS_WORKERS", "0"),
        ("LIENTHONG_BRIEFINGS_WORKERS", "many"),
    ],
)
def test_bad_values_name_the_key(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as err:
        BriefingsConfig.from_env({key: value})
    assert err.value.key == key
