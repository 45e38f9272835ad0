"""Regions and zones: a fixed catalogue of the regions SLB serves.

API reference: https://api.aliyun.com/document/Slb/2014-05-15/DescribeRegions
and .../DescribeZones. The catalogue is a subset of the real regions; a
request for a region outside it still works everywhere else (resources are
kept per RegionId), only DescribeZones answers with no zones for it.
"""

from __future__ import annotations

from typing import Any

from slbsync.emulator.errors import InvalidParameter
from slbsync.emulator.registry import ActionContext, action

# RegionId: (English name, Chinese name, zone letters)
REGIONS: dict[str, tuple[str, str, str]] = {
    "cn-hangzhou": ("China (Hangzhou)", "华东1（杭州）", "hijk"),
    "cn-shanghai": ("China (Shanghai)", "华东2（上海）", "abel"),
    "cn-beijing": ("China (Beijing)", "华北2（北京）", "acgh"),
    "cn-shenzhen": ("China (Shenzhen)", "华南1（深圳）", "adef"),
    "cn-zhangjiakou": ("China (Zhangjiakou)", "华北3（张家口）", "abc"),
    "cn-hongkong": ("China (Hong Kong)", "中国香港", "bcd"),
    "ap-southeast-1": ("Singapore", "新加坡", "abc"),
    "eu-central-1": ("Germany (Frankfurt)", "德国（法兰克福）", "ab"),
    "us-west-1": ("US (Silicon Valley)", "美国（硅谷）", "ab"),
}
_LANGUAGES = ("zh-CN", "en-US", "ja")


def zones_of(region_id: str, language: str = "en-US") -> list[tuple[str, str]]:
    """(ZoneId, LocalName) of every zone in the region."""
    names = REGIONS.get(region_id)
    if names is None:
        return []
    english, chinese, letters = names
    if language == "zh-CN":
        return [(f"{region_id}-{z}", f"{chinese} 可用区{z.upper()}") for z in letters]
    return [(f"{region_id}-{z}", f"{english} Zone {z.upper()}") for z in letters]


def _language(ctx: ActionContext) -> str:
    language = ctx.params.str("AcceptLanguage", default="zh-CN")
    if language not in _LANGUAGES:
        raise InvalidParameter(
            "AcceptLanguage", f"Valid values: {', '.join(_LANGUAGES)}."
        )
    return language


@action("DescribeRegions")
def describe_regions(ctx: ActionContext) -> dict[str, Any]:
    """https://api.aliyun.com/document/Slb/2014-05-15/DescribeRegions"""
    language = _language(ctx)
    regions = [
        {
            "RegionId": region_id,
            "LocalName": chinese if language == "zh-CN" else english,
            "RegionEndpoint": "slb.aliyuncs.com",
        }
        for region_id, (english, chinese, _) in REGIONS.items()
    ]
    return {"Regions": {"Region": regions}}


@action("DescribeZones")
def describe_zones(ctx: ActionContext) -> dict[str, Any]:
    """https://api.aliyun.com/document/Slb/2014-05-15/DescribeZones

    Each zone lists every other zone of its region as a possible slave zone.
    """
    zones = zones_of(ctx.region_id, _language(ctx))
    return {
        "Zones": {
            "Zone": [
                {
                    "ZoneId": zone_id,
                    "LocalName": name,
                    "SlaveZones": {
                        "SlaveZone": [
                            {"ZoneId": other_id, "LocalName": other_name}
                            for other_id, other_name in zones
                            if other_id != zone_id
                        ]
                    },
                }
                for zone_id, name in zones
            ]
        }
    }
