//! Phrase banks (Chinese customer-service chat) and a tiny template renderer.
//!
//! Templates contain `{key}` placeholders that [`render`] fills from the
//! session's [`Vars`] or with a fresh random value (sizes, coupons, phone
//! numbers...). Agent lines mostly use full-width punctuation, customer lines
//! are sloppier (spaces, ascii), as in real exports; a few lines contain ascii
//! commas, double quotes or line breaks so CSV/JSON quoting gets exercised.

use super::rng::Rng;
use std::fmt::Write as _;

/// What a shop sells; decides products and which topics make sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Apparel,
    Digital,
    Beauty,
    Food,
    Home,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Apparel,
        Category::Digital,
        Category::Beauty,
        Category::Food,
        Category::Home,
    ];

    fn bit(self) -> u8 {
        match self {
            Category::Apparel => APPAREL,
            Category::Digital => DIGITAL,
            Category::Beauty => BEAUTY,
            Category::Food => FOOD,
            Category::Home => HOME,
        }
    }

    /// Word used in the shop's display name (云裳女装旗舰店).
    pub fn shop_word(self) -> &'static str {
        match self {
            Category::Apparel => "服饰",
            Category::Digital => "数码",
            Category::Beauty => "美妆",
            Category::Food => "食品",
            Category::Home => "家居",
        }
    }

    pub fn items(self) -> &'static [&'static str] {
        match self {
            Category::Apparel => &[
                "加绒连帽卫衣",
                "白鸭绒羽绒服",
                "高腰直筒牛仔裤",
                "针织开衫",
                "三合一冲锋衣",
                "法式碎花连衣裙",
                "纯棉长袖T恤",
                "轻便跑步鞋",
            ],
            Category::Digital => &[
                "降噪蓝牙耳机",
                "20000毫安充电宝",
                "机械键盘",
                "智能手表",
                "氮化镓快充头",
                "平板保护壳",
                "无线鼠标",
            ],
            Category::Beauty => &[
                "玻尿酸精华液",
                "修护面霜",
                "哑光口红",
                "清爽防晒霜",
                "氨基酸洗面奶",
                "补水面膜",
            ],
            Category::Food => &[
                "每日坚果礼盒",
                "风干牛肉干",
                "螺蛳粉",
                "挂耳咖啡",
                "手工牛轧糖",
                "五常大米",
            ],
            Category::Home => &[
                "全棉四件套",
                "真空收纳袋",
                "316保温杯",
                "免手洗拖把",
                "乳胶枕",
                "加厚浴巾",
            ],
        }
    }
}

const APPAREL: u8 = 1;
const DIGITAL: u8 = 2;
const BEAUTY: u8 = 4;
const FOOD: u8 = 8;
const HOME: u8 = 16;
const ALL: u8 = APPAREL | DIGITAL | BEAUTY | FOOD | HOME;

/// One conversational topic: the customer's question, the agent's answer and
/// an optional follow-up exchange.
#[derive(Debug)]
pub struct Topic {
    pub name: &'static str,
    cats: u8,
    pub asks: &'static [&'static str],
    pub answers: &'static [&'static str],
    /// Follow-up question and its matching answer.
    pub follow: &'static [(&'static str, &'static str)],
    /// Non-empty when the shop bot can answer this (simple FAQ) any time.
    pub bot_answers: &'static [&'static str],
}

impl Topic {
    pub fn fits(&self, cat: Category) -> bool {
        self.cats & cat.bit() != 0
    }
}

pub static PRE_SALE: &[Topic] = &[
    Topic {
        name: "尺码",
        cats: APPAREL,
        asks: &[
            "我身高{height}体重{weight}斤穿什么码",
            "{height} {weight}斤 选哪个码合适",
            "这个尺码偏大还是偏小啊",
            "平时穿M的 这款拿什么码",
            "身高{height}cm 胖一点 穿多大的",
        ],
        answers: &[
            "亲，根据您的身高体重建议选{size}码哦~",
            "亲，这款是标准码，按平时尺码拿就可以，建议{size}码",
            "亲亲，{height}的身高建议{size}码，喜欢宽松可以拿大一码哦",
            "亲，这款版型偏大，建议拿小一码，{size}码就可以",
        ],
        follow: &[
            ("会不会起球", "亲，不会的哦，面料做过防起球处理"),
            ("洗了会缩水吗", "亲，正常洗涤不会缩水的哦，建议冷水手洗"),
            ("那我拿{size}的吧", "好的亲，这个码有现货的，拍下就可以发货哦"),
            ("裤长多少啊", "亲，详细尺寸可以看下详情页的尺码表哦"),
        ],
        bot_answers: &[],
    },
    Topic {
        name: "有货吗",
        cats: ALL,
        asks: &[
            "{color}的还有货吗",
            "有现货吗",
            "这款还有库存吗",
            "现在下单有货吗",
            "这个还有吗？",
        ],
        answers: &[
            "有的亲，现货充足，拍下就可以发货哦",
            "亲，目前有现货的，{time}前下单当天发出~",
            "亲，{color}暂时缺货，预计{days}天后补货，可以先收藏加购哦",
            "有的哦亲，放心拍",
        ],
        follow: &[
            ("那我现在拍", "好的亲，拍下后我这边给您优先安排哦"),
            ("能保证今天发吗", "亲，{time}前付款的当天都会发出的哦"),
            ("{color}呢", "亲，这个颜色也有现货的哦"),
        ],
        bot_answers: &[],
    },
    Topic {
        name: "发货时间",
        cats: ALL,
        asks: &[
            "什么时候发货",
            "今天能发货吗",
            "几天能到",
            "下单多久发货啊",
            "发什么快递",
        ],
        answers: &[
            "亲，{time}前下单当天发货，默认{express}哦",
            "亲，付款后{hours}小时内发货，正常{days}天左右到",
            "亲，现在是大促期间，会按付款顺序在{hours}小时内发出哦",
        ],
        follow: &[
            ("能发顺丰吗", "亲，顺丰需要补{n}元运费差价哦"),
            ("能快点吗 急用", "亲，已经帮您备注加急了哦"),
            ("到{city}要几天", "亲，正常{days}天左右就到啦"),
        ],
        bot_answers: &[
            "【自动回复】亲，本店付款后{hours}小时内发货，默认{express}，偏远地区除外哦~",
            "亲，我们一般在付款后{hours}小时内发货，发货后可以在订单详情查看物流进度哦",
        ],
    },
    Topic {
        name: "议价",
        cats: ALL,
        asks: &[
            "能便宜点吗",
            "老顾客了 能不能优惠点",
            "便宜点我就拍了",
            "买两件能打折吗",
            "别家比你们便宜{n}块",
        ],
        answers: &[
            "亲，已经是活动价了哦，现在下单还可以用{coupon}的券",
            "亲，价格是统一的哦，不过现在{discount}",
            "亲，小本生意，真的没有利润了哦，给您送个{gift}吧",
            "亲，我们家用料和别家不一样的哦，一分钱一分货",
        ],
        follow: &[
            ("那送点什么吗", "亲，给您备注送{gift}哦"),
            ("再便宜{n}块行不行", "亲，真的不能再少了哦，质量您放心"),
            ("好吧", "亲，给您申请了一张{coupon}的券，已经发到您账户了"),
        ],
        bot_answers: &[],
    },
    Topic {
        name: "优惠券",
        cats: ALL,
        asks: &[
            "有优惠券吗",
            "券在哪里领",
            "满减怎么算",
            "这个能用{coupon}的券吗",
            "双十一有什么活动",
        ],
        answers: &[
            "亲，店铺首页可以领取{coupon}的优惠券哦",
            "亲，下单时系统会自动计算满减哦，{coupon}",
            "亲，现在{discount}，还可以叠加{coupon}的店铺券",
        ],
        follow: &[
            ("领不了啊", "亲，可能是券已经领完了，您刷新一下试试哦"),
            ("能叠加吗", "亲，店铺券和平台券是可以叠加使用的哦"),
            ("券是不是过期了", "亲，我再给您发一张，{coupon}，今天有效哦"),
        ],
        bot_answers: &[],
    },
    Topic {
        name: "包邮",
        cats: ALL,
        asks: &["包邮吗", "偏远地区包邮吗", "寄到{city}包邮吗", "运费多少"],
        answers: &[
            "亲，全国包邮哦（新疆、西藏等偏远地区除外）",
            "亲，满{n}元包邮哦",
            "亲，寄{city}是包邮的哦",
        ],
        follow: &[
            ("退货运费谁出", "亲，质量问题退货运费由我们承担哦"),
            ("有运费险吗", "亲，我们赠送运费险的哦，退货运费由保险公司承担"),
        ],
        bot_answers: &[
            "【自动回复】亲，本店全国包邮（港澳台及新疆、西藏除外）哦~",
            "亲，本店商品默认包邮哦，偏远地区需补运费差价",
        ],
    },
    Topic {
        name: "材质",
        cats: APPAREL | HOME,
        asks: &[
            "什么材质的",
            "是纯棉的吗",
            "面料怎么样",
            "会掉色吗",
            "详情页写的\"加厚\"是真的加厚吗",
        ],
        answers: &[
            "亲，这款是{material}面料，亲肤透气哦",
            "亲，面料是{material}的，手感很好哦",
            "亲，是加厚款的哦，实物和详情页描述一致",
            "亲，我们的面料都经过固色处理，正常洗涤不会掉色的哦",
        ],
        follow: &[
            ("会不会起静电", "亲，正常使用不会的哦"),
            ("能机洗吗", "亲，可以机洗，建议翻面洗，不要暴晒"),
            ("有异味吗", "亲，新品拆开可能有一点点面料味，通风晾一下就好了哦"),
        ],
        bot_answers: &[],
    },
    Topic {
        name: "颜色",
        cats: APPAREL | DIGITAL | BEAUTY | HOME,
        asks: &[
            "这几个颜色哪个好看",
            "实物有色差吗",
            "{color}显黑吗",
            "有没有实拍图",
        ],
        answers: &[
            "亲，{color}是今年的热销款哦，百搭显白",
            "亲，我们都是实物拍摄，会因显示器不同有轻微色差哦",
            "亲，两个颜色都很好看，看您个人喜好哦",
            "亲，买家秀里有很多实拍图，您可以参考一下哦",
        ],
        follow: &[
            ("那我要{color}的", "好的亲，这个颜色有现货的，拍下就可以发货哦"),
            ("送人的话哪个好", "亲，送人的话推荐{color}哦，卖得最好"),
        ],
        bot_answers: &[],
    },
    Topic {
        name: "适配",
        cats: DIGITAL,
        asks: &[
            "这个能适配{phone_model}吗",
            "支持快充吗",
            "续航多久",
            "有保修吗",
            "是正品吗",
        ],
        answers: &[
            "亲，支持{phone_model}的哦，放心拍",
            "亲，支持快充的哦，充满大约1个半小时",
            "亲，正常使用续航{hours}小时左右哦",
            "亲，全国联保一年，7天无理由退换哦",
            "亲，我们是品牌授权店，保证正品，支持验货哦",
        ],
        follow: &[
            ("有发票吗", "亲，支持开具电子发票，下单时备注抬头就可以哦"),
            ("坏了怎么保修", "亲，保修期内寄回我们免费维修或更换哦"),
        ],
        bot_answers: &[],
    },
    Topic {
        name: "肤质",
        cats: BEAUTY,
        asks: &[
            "敏感肌能用吗",
            "油皮适合吗",
            "孕妇可以用吗",
            "怎么用啊 早晚都能用吗",
        ],
        answers: &[
            "亲，这款成分温和，敏感肌也可以使用的哦，建议先在耳后试用",
            "亲，油皮干皮都适合的哦，清爽不油腻",
            "亲，孕期建议咨询医生后再使用哦",
            "亲，早晚洁面后取适量涂抹全脸就可以哦",
        ],
        follow: &[
            ("会过敏吗", "亲，个人体质不同，建议先小面积试用哦"),
            ("有小样吗", "亲，下单备注一下，给您送小样哦"),
        ],
        bot_answers: &[],
    },
    Topic {
        name: "保质期",
        cats: FOOD | BEAUTY,
        asks: &["保质期多久", "生产日期是什么时候", "是新鲜的吗"],
        answers: &[
            "亲，都是{month}月新生产的，保质期{n}个月哦",
            "亲，保质期{n}个月，放心购买哦",
            "亲，我们都是现货新鲜发出的，生产日期在外包装上哦",
        ],
        follow: &[
            ("怎么保存", "亲，阴凉干燥处保存就可以，开封后尽快用完哦"),
            ("开封了能放多久", "亲，开封后建议密封保存，尽快用完哦"),
        ],
        bot_answers: &[],
    },
    Topic {
        name: "口味",
        cats: FOOD,
        asks: &["辣不辣", "甜不甜", "哪个口味好吃", "有没有{flavor}的"],
        answers: &[
            "亲，{flavor}是卖得最好的哦",
            "亲，微辣的，一般人都能接受哦",
            "亲，甜度适中，不会腻的哦",
            "有的亲，{flavor}味现货",
        ],
        follow: &[
            ("能混搭口味吗", "亲，可以的，下单备注口味就行哦"),
            ("小孩能吃吗", "亲，建议3岁以上小朋友适量食用哦"),
        ],
        bot_answers: &[],
    },
    Topic {
        name: "尺寸",
        cats: HOME,
        asks: &["尺寸多大", "1.8米的床能用吗", "能装多少东西"],
        answers: &[
            "亲，具体尺寸在详情页有标注哦，1.5米和1.8米都有对应规格",
            "亲，1.8米的床选200x230的就可以哦",
            "亲，容量很大的哦，一家人的被子都能装下",
        ],
        follow: &[(
            "有其他尺寸吗",
            "亲，目前只有这几个规格哦，定制的话需要多等{days}天",
        )],
        bot_answers: &[],
    },
];

pub static AFTER_SALE: &[Topic] = &[
    Topic {
        name: "退款",
        cats: ALL,
        asks: &[
            "我要退款",
            "怎么还没退款",
            "申请退款了 什么时候到账",
            "不想要了 能退吗",
            "拍错了 能取消订单吗",
        ],
        answers: &[
            "亲，已经为您同意退款了，{days}个工作日内原路退回哦",
            "亲，您在订单页申请退款，我这边马上为您处理",
            "亲，退款已经处理了，到账时间以银行为准哦",
        ],
        follow: &[
            ("多久能到账", "亲，一般1-3个工作日到账哦"),
            ("退款原因选哪个", "亲，选择七天无理由就可以哦"),
        ],
        bot_answers: &[],
    },
    Topic {
        name: "退货",
        cats: ALL,
        asks: &[
            "怎么退货",
            "退货地址发我一下",
            "收到了不喜欢 能退吗",
            "七天无理由可以吗",
        ],
        answers: &[
            "亲，支持七天无理由退货哦，在订单页申请退货，寄回时请保持商品完好",
            "亲，退货地址：\n{address}\n寄回时请备注订单号哦",
            "亲，退货申请已同意，请在{days}天内寄回哦",
        ],
        follow: &[
            ("运费谁出", "亲，有运费险的话是不用您出运费的哦"),
            ("寄什么快递", "亲，都可以的，建议选择上门取件哦"),
        ],
        bot_answers: &[],
    },
    Topic {
        name: "换货",
        cats: APPAREL,
        asks: &["尺码小了 能换大一码吗", "能换个颜色吗", "换货怎么弄"],
        answers: &[
            "亲，可以的，您申请换货，寄回后我们给您换{size}码发出",
            "亲，可以换的哦，在订单页选择换货就可以",
        ],
        follow: &[("换货要多久", "亲，收到退回的商品后{days}天内给您发出哦")],
        bot_answers: &[],
    },
    Topic {
        name: "催发货",
        cats: ALL,
        asks: &[
            "怎么还不发货",
            "都{days}天了还没发货",
            "能不能快点发货 急用",
            "什么时候发货啊 等好久了",
        ],
        answers: &[
            "亲，非常抱歉，大促期间订单较多，已经为您加急处理了",
            "亲，已经帮您催仓库了，今天一定发出哦",
            "亲，您的订单已经在打包了，今天会发出的哦",
        ],
        follow: &[
            ("今天一定能发吗", "亲，今天一定发出，发出后物流信息会同步更新哦"),
            ("不发我就退款了", "亲，非常抱歉给您带来不便，已经给您加急了"),
        ],
        bot_answers: &[],
    },
    Topic {
        name: "物流",
        cats: ALL,
        asks: &[
            "物流怎么几天没动了",
            "快递到哪了",
            "物流一直不更新",
            "显示签收了但我没收到",
        ],
        answers: &[
            "亲，帮您查了一下，包裹在{city}中转，大促期间物流会慢一些哦",
            "亲，已经帮您联系{express}催件了，有消息第一时间通知您",
            "亲，可能放在快递柜或驿站了，您先找一下，没有的话我们这边帮您核实哦",
        ],
        follow: &[
            ("能帮我催一下吗", "好的亲，已经帮您催了哦"),
            ("丢件了怎么办", "亲，如果确认丢件我们会给您补发的哦"),
        ],
        bot_answers: &[],
    },
    Topic {
        name: "质量问题",
        cats: ALL,
        asks: &[
            "收到的是坏的",
            "有质量问题",
            "开线了",
            "有色差 跟图片不一样",
            "用了两天就坏了",
            "包装破了 漏了一半",
        ],
        answers: &[
            "亲，非常抱歉，麻烦发一下照片，我们这边为您处理",
            "亲，非常抱歉给您带来不好的体验，可以给您补偿{n}元或者退换货",
            "亲，您先拍一下问题部位的照片哦",
        ],
        follow: &[
            ("补偿太少了", "亲，那给您申请全额退款吧，商品不用退回了"),
            ("我要退货退款", "好的亲，给您申请退货退款，运费我们承担"),
            ("能补偿多少", "亲，给您补偿{n}元，已经通过红包发给您了哦"),
        ],
        bot_answers: &[],
    },
    Topic {
        name: "发票",
        cats: ALL,
        asks: &["能开发票吗", "发票怎么开", "要专票"],
        answers: &[
            "亲，可以开电子发票的，在订单页申请就可以哦",
            "亲，麻烦提供一下抬头和税号哦",
        ],
        follow: &[("多久能开好", "亲，申请后{days}个工作日内开好哦")],
        bot_answers: &[],
    },
];

/// Customer openers.
pub const CUSTOMER_GREETINGS: &[&str] = &[
    "在吗",
    "你好",
    "在不在",
    "亲",
    "hello",
    "有人吗",
    "你好 在吗",
    "客服在吗",
    "哈喽",
];

/// Extra lines customers fire right after a question (consecutive messages).
pub const CUSTOMER_EXTRAS: &[&str] = &["急用", "麻烦快点回复", "？", "在线等", "谢谢", "亲 帮忙看一下"];

/// Short acknowledgements before the customer's next question.
pub const CUSTOMER_ACKS: &[&str] = &["哦哦", "好的", "嗯嗯", "明白了", "这样啊", "好"];

/// Agent greetings (polite agents open with one).
pub const AGENT_GREETINGS: &[&str] = &[
    "您好，欢迎光临{shop}，我是客服{nick}，很高兴为您服务~",
    "亲,在的",
    "在的亲，请问有什么可以帮您？",
    "您好，{shop}客服{nick}为您服务，请问有什么可以帮到您",
    "亲亲，在的哦，有什么可以帮您的呢",
    "您好~欢迎光临{shop}，有什么可以帮您的",
];

/// What an agent says when it skips the greeting but must acknowledge "在吗".
pub const AGENT_BARE_PRESENT: &[&str] = &["在", "在的", "嗯 在", "说"];

/// Greeting of the second agent after a transfer.
pub const AGENT_TRANSFER_GREETINGS: &[&str] = &[
    "您好，我是{nick}，接下来由我为您服务",
    "亲，您好，我是售后客服{nick}，您的问题我已经了解了",
    "您好，转接过来的问题我来帮您处理哦",
];

/// What the first agent says before handing over.
pub const AGENT_TRANSFER_NOTICES: &[&str] = &[
    "亲，这个问题帮您转接给专员处理哦",
    "稍等，帮您转给售后同事",
    "亲，我帮您转接一下售后客服",
];

/// "Let me check" lines sent before a slower, real answer.
pub const AGENT_HOLDS: &[&str] = &[
    "亲，稍等，我帮您查一下",
    "好的亲，马上为您查询",
    "亲，您稍等哦",
    "收到，稍等",
];

pub const AGENT_CLOSINGS: &[&str] = &[
    "感谢您的支持，祝您生活愉快~",
    "还有其他可以帮您的吗？",
    "亲，还有其他问题随时联系我们哦",
    "感谢光临{shop}，期待您的再次光临~",
    "亲，收到货满意的话记得给个五星好评哦",
    "不客气的亲，祝您购物愉快",
];

pub const CUSTOMER_CLOSERS: &[&str] = &[
    "好的",
    "谢谢",
    "嗯嗯",
    "ok",
    "行",
    "好的谢谢",
    "好的 知道了",
    "谢谢亲",
    "好滴",
    "OK",
    "行吧",
    "收到",
];

/// Customer pokes when a reply takes long (and unanswered session endings).
pub const CUSTOMER_NUDGES: &[&str] = &["人呢", "还在吗", "怎么不回了", "???", "有人吗", "在吗？？"];

/// One-off polite check after the customer goes quiet.
pub const AGENT_SINGLE_CHASE: &[&str] = &["亲，还在吗？", "亲，还有其他问题吗"];

/// Repeated verbatim in an identical 三连发 run.
pub const CHASE_IDENTICAL: &[&str] = &["亲,还在吗", "亲？", "在吗亲", "亲亲，还在吗？"];

/// Mixed into a varied chase run.
pub const CHASE_VARIED: &[&str] = &[
    "还需要吗",
    "决定了吗",
    "亲在吗",
    "有需要随时找我",
    "亲，考虑得怎么样了",
    "亲，现在下单今天就能发货哦",
    "亲，优惠券快过期了哦",
    "还有什么疑问吗",
];

/// Violation: moving the deal off the platform.
pub const OFF_PLATFORM: &[&str] = &[
    "亲，加我微信{wx}，私聊给你便宜",
    "加 微 信 {wx} 发你实拍图",
    "ＶＸ：{wx}",
    "支付宝转账给我，给您便宜{n}块",
    "私下交易便宜，平台要扣点的",
    "加我V信{wx}，以后直接找我买",
    "有需要加我vx {wx}",
    "扣扣{qq}联系我，走私下更划算",
];

/// Violation: rude or dismissive replies.
pub const RUDE: &[&str] = &[
    "不知道",
    "自己看详情页",
    "你烦不烦",
    "爱买不买",
    "说了多少遍了",
    "不会自己看吗",
    "问那么多干嘛",
    "没空",
];

/// Violation: absolute advertising claims (广告法 极限词).
pub const ABSOLUTE_CLAIMS: &[&str] = &[
    "我们家是全网最低价",
    "这是全网最好的{item}",
    "行业第一品牌",
    "国家级品质，放心买",
    "销量第一，史上最低价",
    "绝对是最好的，没有之一",
    "顶级工艺，万能百搭",
];

/// Customer lines carrying personal data (for masking tests).
pub const CUSTOMER_PII: &[&str] = &[
    "我电话{phone}，到了直接打我电话",
    "收件人电话改成{phone}",
    "发票发我邮箱{email}",
    "联系我 {phone}",
    "我的邮箱是{email}，资料发这里",
];

/// Night-shift bot (人工客服下班).
pub const BOT_NIGHT_GREETINGS: &[&str] = &[
    "您好，现在是非人工服务时间（人工客服8:30-24:00），我是智能客服{bot}，可以为您解答常见问题~",
    "亲，人工客服已下班，我是{bot}，您可以先描述问题，人工客服上班后会第一时间回复您",
];

pub const BOT_FALLBACKS: &[&str] = &[
    "亲，这个问题{bot}暂时无法解答，人工客服上班后会第一时间回复您哦~",
    "亲，您可以留言，人工客服上线后会优先处理您的问题",
    "抱歉，{bot}没有理解您的问题，您可以换个说法试试，或等待人工客服上线",
];

pub const CUSTOMER_NIGHT_LEAVE_MSG: &[&str] =
    &["好吧 那明天再说", "那我明天再来问", "行 等人工", "上班了回我一下"];

/// The bot confirms a night-time message left for the human agents.
pub const BOT_NIGHT_ACKS: &[&str] = &[
    "好的，已为您留言，人工客服上班后会第一时间联系您~",
    "收到，{bot}已记录您的问题，明天人工客服会优先处理哦",
];

/// Agent card messages (msg_type "card").
pub const AGENT_CARDS: &[&str] = &["[优惠券] {coupon}", "[商品] {item}", "[店铺活动] {discount}"];

/// Customer card / order messages.
pub const CUSTOMER_PRODUCT_CARD: &str = "[商品] {item}";
pub const CUSTOMER_ORDER_CARD: &str = "[订单] {order}";

pub const SYSTEM_LEFT: &str = "客户已离开";
pub const SYSTEM_TRANSFER_PREFIX: &str = "会话已转接给 ";

/// Night-shift boundary: the bot alone answers before this local time.
pub const NIGHT_END_SECS: u32 = 8 * 3600 + 30 * 60;

const SIZES: &[&str] = &["S", "M", "L", "XL", "2XL", "3XL"];
const COLORS: &[&str] = &[
    "黑色",
    "白色",
    "杏色",
    "雾霾蓝",
    "奶茶色",
    "墨绿色",
    "酒红色",
    "浅灰色",
];
const MATERIALS: &[&str] = &["纯棉", "聚酯纤维", "羊毛混纺", "莫代尔", "天丝", "冰丝"];
const EXPRESS: &[&str] = &["中通", "圆通", "顺丰", "韵达", "申通", "极兔", "京东快递"];
const CITIES: &[&str] = &[
    "北京",
    "上海",
    "广州",
    "成都",
    "乌鲁木齐",
    "哈尔滨",
    "杭州",
    "武汉",
    "西安",
    "拉萨",
];
const COUPONS: &[&str] = &["满199减20", "满99减10", "无门槛5元", "满300减40", "满59减5"];
const DISCOUNTS: &[&str] = &["第二件半价", "满2件打9折", "买二送一", "前1000名半价"];
const GIFTS: &[&str] = &["运费险", "小样", "袜子", "钥匙扣", "试吃装", "收纳袋"];
const FLAVORS: &[&str] = &["原味", "香辣", "麻辣", "五香", "蜂蜜", "黑椒"];
const PHONE_MODELS: &[&str] = &["iPhone 16", "华为Mate 70", "小米15", "OPPO Find X8", "vivo X200"];
const TIMES: &[&str] = &["下午4点", "下午5点", "16点", "晚上8点"];
const PINYIN: &[&str] = &["zhangwei", "li.na", "wangfang", "liuyang", "chenjing", "xiaoyu"];
const MAIL_HOSTS: &[&str] = &["163.com", "126.com", "gmail.com", "foxmail.com", "outlook.com"];
const WX_STEMS: &[&str] = &["xm", "kf", "vip", "shop", "ml"];

/// Session-level values a template may refer to.
#[derive(Debug, Clone, Copy)]
pub struct Vars<'a> {
    pub shop: &'a str,
    pub nick: &'a str,
    pub bot: &'a str,
    pub item: &'a str,
}

/// Appends `tpl` to `out`, filling `{key}` placeholders. Unknown keys are
/// copied verbatim (a test checks no bank uses one).
pub fn render(tpl: &str, vars: &Vars<'_>, rng: &mut Rng, out: &mut String) {
    let mut rest = tpl;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let key = &after[..close];
                if !fill(key, vars, rng, out) {
                    out.push('{');
                    out.push_str(key);
                    out.push('}');
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                return;
            }
        }
    }
    out.push_str(rest);
}

/// A uniformly chosen phrase of a bank.
fn one(rng: &mut Rng, bank: &[&'static str]) -> &'static str {
    bank[rng.index(bank.len())]
}

/// Writes the value of one placeholder; false when the key is unknown.
fn fill(key: &str, vars: &Vars<'_>, rng: &mut Rng, out: &mut String) -> bool {
    // `write!` into a String cannot fail; the results are ignored on purpose.
    match key {
        "shop" => out.push_str(vars.shop),
        "nick" => out.push_str(vars.nick),
        "bot" => out.push_str(vars.bot),
        "item" => out.push_str(vars.item),
        "size" => out.push_str(one(rng, SIZES)),
        "color" => out.push_str(one(rng, COLORS)),
        "material" => out.push_str(one(rng, MATERIALS)),
        "express" => out.push_str(one(rng, EXPRESS)),
        "city" => out.push_str(one(rng, CITIES)),
        "coupon" => out.push_str(one(rng, COUPONS)),
        "discount" => out.push_str(one(rng, DISCOUNTS)),
        "gift" => out.push_str(one(rng, GIFTS)),
        "flavor" => out.push_str(one(rng, FLAVORS)),
        "phone_model" => out.push_str(one(rng, PHONE_MODELS)),
        "time" => out.push_str(one(rng, TIMES)),
        "height" => {
            let _ = write!(out, "{}", rng.range(150, 188));
        }
        "weight" => {
            let _ = write!(out, "{}", rng.range(85, 180));
        }
        "hours" => out.push_str(one(rng, &["24", "48", "72"])),
        "days" => {
            let _ = write!(out, "{}", rng.range(2, 7));
        }
        "month" => {
            let _ = write!(out, "{}", rng.range(1, 12));
        }
        "n" => {
            let _ = write!(out, "{}", rng.range(2, 30) * if rng.chance(0.3) { 5 } else { 1 });
        }
        "order" => {
            // Order numbers are long digit strings: a good trap for naive
            // phone-number regexes in the masking code.
            let _ = write!(out, "{}", rng.range(1_000_000_000_000_000, 4_999_999_999_999_999));
        }
        "phone" => {
            let second = rng.pick(&['3', '5', '7', '8', '9']);
            let _ = write!(out, "1{second}{:09}", rng.below(1_000_000_000));
        }
        "email" => {
            if rng.chance(0.4) {
                let _ = write!(out, "{}@qq.com", rng.range(10_000_000, 2_999_999_999));
            } else {
                let _ = write!(
                    out,
                    "{}{}@{}",
                    rng.pick(PINYIN),
                    rng.range(1, 99),
                    rng.pick(MAIL_HOSTS)
                );
            }
        }
        "wx" => {
            let _ = write!(out, "{}{}", rng.pick(WX_STEMS), rng.range(1000, 99_999));
        }
        "qq" => {
            let _ = write!(out, "{}", rng.range(10_000_000, 2_999_999_999));
        }
        "address" => {
            let _ = write!(
                out,
                "浙江省杭州市余杭区文一西路{}号 {}售后部 收",
                rng.range(1, 999),
                vars.shop
            );
        }
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_banks() -> Vec<Vec<&'static str>> {
        let fixed: [&'static [&'static str]; 24] = [
            CUSTOMER_GREETINGS,
            CUSTOMER_EXTRAS,
            CUSTOMER_ACKS,
            AGENT_GREETINGS,
            AGENT_BARE_PRESENT,
            AGENT_TRANSFER_GREETINGS,
            AGENT_TRANSFER_NOTICES,
            AGENT_HOLDS,
            AGENT_CLOSINGS,
            CUSTOMER_CLOSERS,
            CUSTOMER_NUDGES,
            AGENT_SINGLE_CHASE,
            CHASE_IDENTICAL,
            CHASE_VARIED,
            OFF_PLATFORM,
            RUDE,
            ABSOLUTE_CLAIMS,
            CUSTOMER_PII,
            BOT_NIGHT_GREETINGS,
            BOT_FALLBACKS,
            CUSTOMER_NIGHT_LEAVE_MSG,
            BOT_NIGHT_ACKS,
            AGENT_CARDS,
            &[CUSTOMER_PRODUCT_CARD, CUSTOMER_ORDER_CARD],
        ];
        let mut v: Vec<Vec<&'static str>> = fixed.iter().map(|b| b.to_vec()).collect();
        for t in PRE_SALE.iter().chain(AFTER_SALE) {
            v.push(t.asks.to_vec());
            v.push(t.answers.to_vec());
            v.push(t.follow.iter().flat_map(|(a, b)| [*a, *b]).collect());
        }
        v
    }

    #[test]
    fn every_template_renders_without_unknown_keys() {
        let vars = Vars {
            shop: "云裳服饰旗舰店",
            nick: "小美",
            bot: "店小蜜",
            item: "针织开衫",
        };
        let mut rng = Rng::new(1);
        for bank in all_banks() {
            assert!(!bank.is_empty());
            for tpl in &bank {
                let mut out = String::new();
                render(tpl, &vars, &mut rng, &mut out);
                assert!(!out.contains('{') && !out.contains('}'), "{tpl} -> {out}");
                assert!(!out.is_empty());
            }
        }
        for t in PRE_SALE.iter().chain(AFTER_SALE) {
            for tpl in t.bot_answers {
                let mut out = String::new();
                render(tpl, &vars, &mut rng, &mut out);
                assert!(!out.contains('{'), "{tpl}");
            }
        }
    }

    #[test]
    fn every_category_has_topics_on_both_sides() {
        for cat in Category::ALL {
            assert!(PRE_SALE.iter().filter(|t| t.fits(cat)).count() >= 4);
            assert!(AFTER_SALE.iter().filter(|t| t.fits(cat)).count() >= 4);
            assert!(!cat.items().is_empty());
        }
    }

    #[test]
    fn phone_placeholder_is_a_mobile_number() {
        let vars = Vars {
            shop: "s",
            nick: "n",
            bot: "b",
            item: "i",
        };
        let mut rng = Rng::new(3);
        for _ in 0..100 {
            let mut out = String::new();
            render("{phone}", &vars, &mut rng, &mut out);
            assert_eq!(out.len(), 11, "{out}");
            assert!(out.starts_with('1') && out.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
