"""What things are called in the fictional district: streets, estates, people (Chinese, English)."""

from __future__ import annotations

import random

SITE_ID = "haichuan"
DISTRICT = ("d-haichuan", "海川区", "Haichuan District")


def _pairs(text: str) -> list[tuple[str, str]]:
    """'临河 Linhe, 新华 Xinhua' -> [('临河', 'Linhe'), ('新华', 'Xinhua')]."""
    return [(zh, en) for zh, _, en in (item.strip().partition(" ") for item in text.split(","))]


STREET_NAMES = _pairs(
    "临河 Linhe, 新华 Xinhua, 凤凰岭 Fenghuangling, 滨海 Binhai, 千里山 Qianlishan, 东山 Dongshan, "
    "拉僧 Lasheng, 卡布其 Kabuqi, 海北 Haibei, 巴音 Bayin, 黄河 Huanghe, 胜利 Shengli"
)
COMMUNITY_NAMES = _pairs(
    "滨河 Binhe, 锦华 Jinhua, 朝阳 Chaoyang, 海韵 Haiyun, 金沙 Jinsha, 龙湖 Longhu, 望湖 Wanghu, "
    "春晖 Chunhui, 团结 Tuanjie, 幸福 Xingfu, 和平 Heping, 光明 Guangming, 红旗 Hongqi, "
    "建设 Jianshe, 文化 Wenhua, 东风 Dongfeng, 长青 Changqing, 云龙 Yunlong, 翠湖 Cuihu, "
    "明珠 Mingzhu, 桃园 Taoyuan, 康乐 Kangle, 安居 Anju, 嘉禾 Jiahe, 瑞丰 Ruifeng, 育才 Yucai, "
    "振兴 Zhenxing, 新园 Xinyuan"
)
DIRECTIONS = _pairs("东 East, 西 West, 南 South, 北 North, 中 Central")
ESTATE_NAMES = _pairs(
    "金域 Jinyu, 阳光 Yangguang, 书香 Shuxiang, 御景 Yujing, 恒大 Hengda, 万和 Wanhe, 蓝湾 Lanwan, "
    "绿洲 Lüzhou, 丽水 Lishui, 银河 Yinhe, 华府 Huafu, 盛世 Shengshi, 天骄 Tianjiao, 紫薇 Ziwei, "
    "北辰 Beichen, 鑫苑 Xinyuan"
)
ESTATE_SUFFIXES = _pairs(
    "花园 Garden, 家园 Homes, 小区 Estate, 嘉苑 Court, 名邸 Residence, 新城 New Town"
)
# Old walk-up estates in a mining and power town are named after the works that built them.
WORKS_NAMES = _pairs(
    "矿务局 Mining Bureau, 电厂 Power Plant, 化工厂 Chemical Works, 铁路 Railway, "
    "供电局 Power Supply Bureau, 建材厂 Building Materials, 焦化厂 Coking Plant, "
    "水泥厂 Cement Works, 机械厂 Machinery Works"
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏"
GIVEN_NAMES = (
    "建华 秀英 志强 丽娟 海燕 国庆 晓明 玉兰 文军 春梅 红霞 德胜 丽萍 俊杰 雪梅 永刚 桂芳 "
    "宏伟 淑珍 立新 婷 磊 静 勇 敏 军 艳 强 洁 涛 鹏 娜 浩然 子涵 欣怡 宇轩 梓萱 明辉 新民 "
    "凤英 金凤 国栋 学军 晓燕 亚楠 卫东 红梅 振华 建国"
).split()


def unique_names(
    rng: random.Random, pool: list[tuple[str, str]], count: int, part: str = ""
) -> list[tuple[str, str]]:
    """`count` distinct (Chinese, English) names: the pool shuffled, then east/west/... parts."""
    names = rng.sample(pool, len(pool))
    for zh_dir, en_dir in DIRECTIONS:
        if len(names) >= count:
            break
        names += [(zh + zh_dir + part, f"{en} {en_dir}") for zh, en in rng.sample(pool, len(pool))]
    tier = 2
    while len(names) < count:
        names += [(f"{zh}{tier}{part}", f"{en} {tier}") for zh, en in pool]
        tier += 1
    return names[:count]
