// Words on the page: zh-CN by default, English on request. t("key", {name: value}).

const LANG_KEY = "fengqiao.lang";

const zh = {
  "app.title": "枫桥 · 矛盾纠纷三色预警",
  "app.brand": "枫桥",
  "app.subtitle": "矛盾纠纷多元化解",
  "nav.board": "预警看板",
  "nav.stats": "统计分析",
  "nav.signout": "退出",
  "nav.lang": "English",
  "nav.skip": "跳到主要内容",
  "bell.title": "通知",
  "bell.unread": "{n} 条未读",
  "bell.allRead": "全部已读",
  "bell.readAll": "全部标为已读",
  "bell.empty": "暂无通知",

  "signin.title": "登录",
  "signin.lead": "请粘贴您的访问令牌（由 fengqiao token 或 fengqiao serve --demo 生成）。",
  "signin.token": "访问令牌",
  "signin.submit": "登录",
  "signin.busy": "正在验证…",
  "signin.bad": "令牌格式不正确：应为三段以“.”分隔的 JWT。",
  "signin.expired": "令牌已过期，请重新获取。",
  "signin.rejected": "服务器拒绝了该令牌（无效或已过期）。",
  "signin.note": "令牌仅保存在本浏览器标签页中（sessionStorage），关闭标签页即失效。",
  "signin.signedout": "您已退出。",

  "board.title": "三色预警看板",
  "board.group": "分组",
  "board.byTier": "按层级",
  "board.byLevel": "按预警等级",
  "board.total": "在办 {n} 件",
  "board.overdue": "逾期 {n} 件",
  "board.empty": "暂无",
  "board.allClear": "辖区内暂无在办案件。",
  "board.truncated": "仅显示前 {n} 件。",
  "board.live.stream": "实时推送",
  "board.live.polling": "每秒刷新",
  "board.live.connecting": "正在连接…",
  "board.live.offline": "连接中断，正在重试…",
  "board.updated": "更新于 {time}",
  "board.location": "地点",
  "board.owner": "责任单位",
  "board.assignee": "承办人",
  "board.unassigned": "未指派",
  "board.leftBehind": "停用人员名下在办案件",
  "board.leftBehindHint": "人员停用后，其名下案件不会自动转移，请重新指派承办人。",
  "board.leftBehindCount": "在办 {count} 件",
  "board.noDeadline": "计时暂停",
  "board.left": "剩余",
  "board.overdueBy": "已逾期",
  "board.open": "查看",
  "board.awaiting": "待签收",
  "board.causeTitle": "预警等级来自：{cause}",

  "case.back": "← 返回看板",
  "case.loading": "正在加载案件…",
  "case.details": "案件信息",
  "case.kind": "类型",
  "case.category": "类别",
  "case.channel": "来源",
  "case.location": "发生地",
  "case.owner": "责任单位",
  "case.assignee": "承办人",
  "case.people": "涉及人数",
  "case.amount": "涉及金额",
  "case.registered": "登记时间",
  "case.updated": "最近更新",
  "case.version": "版本",
  "case.policy": "适用规则",
  "case.levelLine": "{level} · {cause}",
  "case.triggered": "{cause}：{triggers}",
  "case.suggested": "预警指标建议{level}预警",
  "case.suggestedWhy": "预警指标建议{level}预警（{triggers}）",
  "case.policeCallouts": "110出警",
  "case.policeCallouts.n": "{n} 次",
  "case.caller": "反映人",
  "case.anonymous": "匿名",
  "case.referralIn": "转办来源",
  "case.referralAgency": "来源单位",
  "case.referralReference": "来源案号",
  "case.referralDue": "反馈期限",
  "case.referralState": "反馈情况",
  "case.reportedBack": "已反馈",
  "case.notReportedBack": "未反馈",
  "case.supervision": "督办",
  "case.review": "差评核实",
  "case.reviewGrade": "当事人评价",
  "case.reviewComment": "当事人意见",
  "case.reviewDue": "核实期限",
  "case.reviewReason": "核实情况",
  "case.reviewReasonHint": "认定不属实须写明理由；属实可不填",
  "case.reviewConfirm": "属实，退回再办",
  "case.reviewDispute": "不属实",
  "case.reviewWho": "由承办单位主管核实：属实则案件退回重新办理，不属实须写明理由。",
  "case.supervisionOrder": "第 {n} 号",
  "case.supervisionBy": "督办单位",
  "case.supervisionText": "督办要求",
  "case.supervisionDue": "答复期限",
  "case.supervisionReminders": "催办次数",
  "case.supervisionReminders.n": "{n} 次",
  "case.flags": "标记",
  "case.deadlines": "时限",
  "case.noDeadlines": "当前没有进行中的时限。",
  "case.parties": "当事人",
  "case.partyName": "姓名",
  "case.partyRole": "身份",
  "case.idNumber": "身份证号",
  "case.phone": "电话",
  "case.address": "住址",
  "case.noParties": "未登记当事人。",
  "case.masked": "个人信息已按权限脱敏显示。",
  "case.timeline": "办理记录",
  "case.actions": "办理操作",
  "case.moreActions": "其他操作（当前状态下通常不可用）",
  "case.noActions": "您的角色不能办理此案件，仅可查看。",
  "case.ownerAbove": "本案由{owner}负责办理。上级单位不直接办理，可以督办（要求其限期答复）或提级办理（由本单位接手办理）。",
  "case.ownerElsewhere": "本案由{owner}负责办理，您可以查看案件，添加备注和附件。",
  "case.done": "已完成：{action}",
  "case.yuan": "元",
  "case.people.n": "{n} 人",
  "case.awaiting": "待签收",
  "case.attachments": "附件",
  "case.noAttachments": "暂无附件。",
  "case.uploadTitle": "拍照上传",
  "case.uploadKind": "附件类型",
  "case.uploadFile": "照片",
  "case.uploadPick": "拍照或选择照片",
  "case.uploadNothing": "尚未选择",
  "case.uploadSubmit": "上传",
  "case.uploadNone": "请先拍照或选择一张照片。",
  "case.uploaded": "已上传：{name}",
  "case.download": "下载",
  "case.downloaded": "已下载：{name}",
  "case.documents": "文书",
  "case.noDocuments": "暂无可生成的文书。",
  "case.print": "打印",
  "case.word": "Word",
  "case.documentReason": "实名生成事由（留空为脱敏副本）",
  "case.documentReasonHint": "如：当事人签署协议",
  "att.name": "文件名",
  "att.kind": "类型",
  "att.media": "格式",
  "att.size": "大小",
  "att.by": "上传人",
  "att.at": "上传时间",
  "att.sha": "校验值",

  "file.owner": "责任单位",
  "file.version": "第{n}版",
  "file.clocks": "时限：{changes}",
  "file.clockDue": "{kind}期限至 {time}",
  "file.clockEnded": "{kind}期限结束",
  "file.summary": "摘要",
  "file.reporter": "报告人",
  "file.recordedBy": "登记人",
  "file.parties": "当事人",
  "file.attendees": "参加人员",
  "file.notes": "调解情况",
  "file.agreement": "协议内容",
  "file.answer": "答复内容",
  "file.referralResult": "处理结果",
  "file.reportedBack": "反馈内容",
  "file.followNote": "回访记录",
  "file.note": "备注内容",
  "file.rulingNote": "裁定说明",
  "file.attachment": "文件",
  "file.partyLine": "{name}（{role}） 身份证号：{id} 电话：{phone} 住址：{address}",

  "value.yes": "是",
  "value.no": "否",
  "value.missing": "未填",
  "value.none": "无",
  "value.yuan": "{v} 元",
  "value.bytes": "{n} 字节",
  "time.zone": "北京时间",

  "mode.holiday": "当前为假日模式：此后开始计时的非红色案件，日历时限只计算工作日。",
  "mode.emergency": "当前为应急处置模式：此后开始计时的时限减半，红色案件签收时限为 15 分钟。",
  "mode.badge.normal": "常规模式",
  "mode.badge.holiday": "假日模式",
  "mode.badge.emergency": "应急处置",
  "mode.source.here": "本单位设定的模式",
  "mode.source.above": "沿用{unit}设定的模式",
  "mode.source.default": "默认模式（从未切换）",

  "form.submit": "提交",
  "form.assignee": "承办调解员",
  "form.noMediators": "承办单位名单内没有在岗调解员",
  "form.level": "预警等级",
  "form.reason": "理由",
  "form.triggers": "触发情形（用逗号分隔）",
  "form.heldAt": "调解时间（北京时间）",
  "form.notes": "调解情况",
  "form.attendees": "参加人员（用逗号分隔）",
  "form.agreement": "协议内容",
  "form.form": "协议形式",
  "form.written": "书面协议",
  "form.oral": "口头协议",
  "form.amount": "履行金额（元，可选）",
  "form.performanceDue": "履行期限（日期，可选）",
  "form.satisfied": "当事人是否满意",
  "form.honoured": "协议是否履行",
  "form.unknown": "不确定",
  "form.yes": "是",
  "form.no": "否",
  "form.note": "回访记录",
  "form.text": "备注内容",
  "form.agency": "转办单位",
  "form.grade": "评价",
  "form.channel": "评价方式",
  "form.comment": "当事人意见（选填）",
  "form.until": "延长至（北京时间）",
  "form.deadlineKind": "时限",
  "form.answer": "回复内容",
  "form.court": "受理法院",
  "form.reviewAt": "复查日期（北京时间，30 日内）",
  "form.instruction": "督办要求",
  "form.answerDue": "答复期限（北京时间）",
  "form.supervisionAnswer": "答复内容（已采取的措施和下一步安排）",
  "form.required": "请填写此项",
  "form.outcome": "答复结果",
  "form.reference": "对方案号",
  "form.referralAnswer": "答复内容",
  "form.declineReason": "不予受理的理由",
  "form.referralConcluded": "处理情况",
  "form.result": "处理结果",
  "form.reportBack": "向来源单位反馈的处理结果",
  "form.people": "涉及人数（核实后可更正）",
  "form.amountInvolved": "涉及金额（元，核实后可更正）",
  "form.policeCallouts": "110出警次数（核实后可更正）",
  "form.belowSuggestion": "低于建议等级的理由",
  "form.suggestedNow": "预警指标建议{level}预警（{triggers}），定级较低须说明理由。",

  "stats.title": "统计分析",
  "stats.from": "从",
  "stats.to": "至",
  "stats.bucket": "粒度",
  "stats.week": "按周",
  "stats.month": "按月",
  "stats.apply": "查询",
  "stats.last30": "近30天",
  "stats.last90": "近90天",
  "stats.thisYear": "今年",
  "stats.loading": "正在统计…",
  "stats.registered": "登记",
  "stats.resolved": "化解",
  "stats.terminated": "调解终止",
  "stats.referred": "转办",
  "stats.overdueOpen": "逾期未结",
  "stats.medianHours": "化解用时中位数",
  "stats.hours": "{n} 小时",
  "stats.days": "{n} 天",
  "stats.satisfaction": "满意率",
  "stats.reopen": "重新办理率",
  "stats.rates": "关键指标",
  "stats.resolutionRate": "化解成功率",
  "stats.localRate": "就地化解率",
  "stats.onTimeRate": "按期办结率",
  "stats.escalationRate": "上交升级率",
  "stats.countyShare": "县级办理占比",
  "stats.noData": "无数据",
  "stats.series": "登记量趋势（按预警等级）",
  "stats.byCategory": "按类别",
  "stats.byChannel": "按来源渠道",
  "stats.byKind": "按类型",
  "stats.others": "其他",
  "stats.children": "下级单位汇总",
  "stats.unit": "单位",
  "stats.nothing": "本期无登记。",
  "stats.export": "导出审计记录",
  "stats.exportCsv": "导出审计记录（CSV）",
  "stats.exportJsonl": "JSON Lines",
  "stats.exporting": "正在导出…",
  "stats.exported": "已下载 {name}",
  "stats.drill": "查看该单位统计",
  "stats.up": "↑ 返回 {name}",
  "stats.hint": "悬停图形可查看数值。",

  "err.network": "无法连接服务器，请检查网络后重试。",
  "err.401": "登录已失效，请重新登录。",
  "err.403": "无权执行此操作：{detail}",
  "err.404": "未找到：{detail}",
  "err.notAllowed": "案件当前状态为“{status}”，不能{action}。",
  "err.version": "案件已被他人更新（当前版本 {version}），页面已刷新，请核对后重试。",
  "err.field": "“{field}”填写有误：{reason}",
  "err.input": "输入有误：{detail}",
  "err.server": "服务器出错（{status}），请稍后重试。",
  "err.generic": "操作失败（{status}）：{detail}",
  "err.server.detail": "服务器说明：{detail}",

  "action.sign": "签收",
  "action.assign": "指派",
  "action.assess": "研判定级",
  "action.mediation-sessions": "记录调解",
  "action.resolve": "化解结案",
  "action.terminate": "终止调解",
  "action.referrals": "转办",
  "action.referral-answers": "登记转办回复",
  "action.referral-results": "登记处理结果",
  "action.report-back": "反馈",
  "action.judicial-confirmation": "申请司法确认",
  "action.follow-ups": "回访",
  "action.ratings": "评价",
  "action.rating-reviews": "核实差评",
  "action.pause": "中止",
  "action.resume": "恢复办理",
  "action.extend": "延期",
  "action.escalate": "上交",
  "action.return": "退回",
  "action.lower": "降低等级",
  "action.reopen": "重新办理",
  "action.close": "销号",
  "action.reject": "不予受理",
  "action.notes": "添加备注",
  "action.supervision-orders": "督办",
  "action.supervision-answers": "答复督办",
  "action.take-over": "提级办理",
  "action.attachments": "上传附件",
  "nav.inspections": "督查回访",
  "inspections.title": "督查回访",
  "inspections.lead": "每月从各乡镇上月办结的案件中随机抽取（按政策比例，不少于最低件数），由县、市督查人员回访当事人；抽取记录连同随机种子留存，可复核。",
  "inspections.state": "回访状态",
  "inspections.all": "全部",
  "inspections.empty": "暂无抽查案件。",
  "inspections.case": "案件",
  "inspections.draw": "抽查批次",
  "inspections.due": "回访期限",
  "inspections.found": "回访结果",
  "inspections.satisfied": "当事人满意",
  "inspections.dissatisfied": "当事人不满意",
  "inspections.unreached": "未联系上当事人",
  "inspections.rework": "退回重新办理",
  "case.inspection": "督查回访",
  "case.inspectionDraw": "抽查批次",
  "case.inspectionDue": "回访期限",
  "case.inspectionState": "回访状态",
  "case.inspectionFound": "回访结果",
  "case.inspectionWho": "由县级或市级督查人员回访当事人，记录一次；发现问题可退回重新办理。",
  "form.reached": "是否联系上当事人",
  "form.remarks": "督查意见",
  "form.rework": "退回重新办理",
  "file.remarks": "督查意见",
  "action.inspections": "记录督查回访",
};

const en = {
  "app.title": "Fengqiao · three-colour warnings",
  "app.brand": "Fengqiao",
  "app.subtitle": "Grassroots dispute resolution",
  "nav.board": "Board",
  "nav.stats": "Statistics",
  "nav.signout": "Sign out",
  "nav.lang": "中文",
  "bell.title": "Notifications",
  "bell.unread": "{n} unread",
  "bell.allRead": "All read",
  "bell.readAll": "Mark all read",
  "bell.empty": "No notifications",
  "nav.skip": "Skip to content",

  "signin.title": "Sign in",
  "signin.lead": "Paste your bearer token (from fengqiao token or fengqiao serve --demo).",
  "signin.token": "Bearer token",
  "signin.submit": "Sign in",
  "signin.busy": "Checking…",
  "signin.bad": "That is not a token: a JWT has three parts separated by dots.",
  "signin.expired": "The token has expired; get a new one.",
  "signin.rejected": "The server refused the token (invalid or expired).",
  "signin.note": "The token is kept only in this browser tab (sessionStorage).",
  "signin.signedout": "You have signed out.",

  "board.title": "Escalation board",
  "board.group": "Group",
  "board.byTier": "By tier",
  "board.byLevel": "By level",
  "board.total": "{n} open",
  "board.overdue": "{n} overdue",
  "board.empty": "None",
  "board.allClear": "No open cases in this jurisdiction.",
  "board.truncated": "Showing the first {n} only.",
  "board.live.stream": "Live",
  "board.live.polling": "Polling every second",
  "board.live.connecting": "Connecting…",
  "board.live.offline": "Connection lost, retrying…",
  "board.updated": "Updated {time}",
  "board.location": "Location",
  "board.owner": "Owner",
  "board.assignee": "Assignee",
  "board.unassigned": "unassigned",
  "board.leftBehind": "Open cases of disabled staff",
  "board.leftBehindHint": "Disabling a member moves none of their cases: assign each to someone else.",
  "board.leftBehindCount": "{count} open",
  "board.noDeadline": "Clock stopped",
  "board.left": "left",
  "board.overdueBy": "Overdue",
  "board.open": "Open",
  "board.awaiting": "Awaiting sign-for",
  "board.causeTitle": "Level from: {cause}",

  "case.back": "← Back to the board",
  "case.loading": "Loading the case…",
  "case.details": "Case",
  "case.kind": "Kind",
  "case.category": "Category",
  "case.channel": "Channel",
  "case.location": "Location",
  "case.owner": "Owner",
  "case.assignee": "Assignee",
  "case.people": "People involved",
  "case.amount": "Amount involved",
  "case.registered": "Registered",
  "case.updated": "Last change",
  "case.version": "Version",
  "case.policy": "Policy",
  "case.levelLine": "{level} · {cause}",
  "case.triggered": "{cause}: {triggers}",
  "case.suggested": "risk triggers suggest {level}",
  "case.suggestedWhy": "risk triggers suggest {level} ({triggers})",
  "case.policeCallouts": "Police call-outs",
  "case.policeCallouts.n": "{n}",
  "case.caller": "Reported by",
  "case.anonymous": "anonymous",
  "case.referralIn": "Referred here by",
  "case.referralAgency": "Body",
  "case.referralReference": "Their reference",
  "case.referralDue": "Report back by",
  "case.referralState": "Reported back",
  "case.reportedBack": "reported back",
  "case.notReportedBack": "not yet",
  "case.supervision": "Supervision",
  "case.review": "Bad rating under review",
  "case.reviewGrade": "The party's rating",
  "case.reviewComment": "What they said",
  "case.reviewDue": "Review due",
  "case.reviewReason": "Findings",
  "case.reviewReasonHint": "A reason is needed to dispute it; optional to confirm",
  "case.reviewConfirm": "Confirm: rework",
  "case.reviewDispute": "Dispute",
  "case.reviewWho": "The owning unit's supervisor reviews it: confirmed, the case goes back for rework; disputed, with a reason.",
  "case.supervisionOrder": "Order {n}",
  "case.supervisionBy": "Ordered by",
  "case.supervisionText": "Instruction",
  "case.supervisionDue": "Answer due",
  "case.supervisionReminders": "Reminders",
  "case.supervisionReminders.n": "{n}",
  "case.flags": "Flags",
  "case.deadlines": "Deadlines",
  "case.noDeadlines": "No clock is running.",
  "case.parties": "Parties",
  "case.partyName": "Name",
  "case.partyRole": "Role",
  "case.idNumber": "ID number",
  "case.phone": "Phone",
  "case.address": "Address",
  "case.noParties": "No parties recorded.",
  "case.masked": "Personal data is masked according to your role.",
  "case.timeline": "Timeline",
  "case.actions": "Actions",
  "case.moreActions": "Other actions (usually not allowed in this status)",
  "case.noActions": "Your role cannot act on this case; you may read it.",
  "case.ownerAbove": "{owner} works this case. A unit above does not work it: it orders supervision (an answer by a date) or takes the case over.",
  "case.ownerElsewhere": "{owner} works this case; you may read it and add notes and attachments.",
  "case.done": "Done: {action}",
  "case.yuan": "yuan",
  "case.people.n": "{n}",
  "case.awaiting": "Awaiting sign-for",
  "case.attachments": "Attachments",
  "case.noAttachments": "No attachments yet.",
  "case.uploadTitle": "Take or upload a photo",
  "case.uploadKind": "Kind",
  "case.uploadFile": "Photo",
  "case.uploadPick": "Take or choose a photo",
  "case.uploadNothing": "nothing chosen",
  "case.uploadSubmit": "Upload",
  "case.uploadNone": "Take or choose a photo first.",
  "case.uploaded": "Uploaded: {name}",
  "case.download": "Download",
  "case.downloaded": "Downloaded: {name}",
  "case.documents": "Documents",
  "case.noDocuments": "No documents to generate yet.",
  "case.print": "Print",
  "case.word": "Word",
  "case.documentReason": "Reason to name the parties (blank for a masked copy)",
  "case.documentReasonHint": "e.g. the parties sign the agreement",
  "att.name": "File",
  "att.kind": "Kind",
  "att.media": "Type",
  "att.size": "Size",
  "att.by": "Added by",
  "att.at": "Added",
  "att.sha": "SHA-256",

  "file.owner": "Owner",
  "file.version": "v{n}",
  "file.clocks": "Deadlines: {changes}",
  "file.clockDue": "{kind} deadline {time}",
  "file.clockEnded": "{kind} deadline ended",
  "file.summary": "Summary",
  "file.reporter": "Reporter",
  "file.recordedBy": "Recorded by",
  "file.parties": "Parties",
  "file.attendees": "Attendees",
  "file.notes": "Session notes",
  "file.agreement": "Agreement",
  "file.answer": "Answer",
  "file.referralResult": "Result",
  "file.reportedBack": "Reported back",
  "file.followNote": "Follow-up note",
  "file.note": "Note",
  "file.rulingNote": "Ruling note",
  "file.attachment": "File",
  "file.partyLine": "{name} ({role}) ID: {id} phone: {phone} address: {address}",

  "value.yes": "yes",
  "value.no": "no",
  "value.missing": "not given",
  "value.none": "none",
  "value.yuan": "{v} yuan",
  "value.bytes": "{n} bytes",
  "time.zone": "Beijing time",

  "mode.holiday": "Holiday mode: clocks started from now on count only working days for cases below red.",
  "mode.emergency": "Emergency mode: clocks started from now on are halved; a red case must be signed for within 15 minutes.",
  "mode.badge.normal": "Normal mode",
  "mode.badge.holiday": "Holiday mode",
  "mode.badge.emergency": "Emergency",
  "mode.source.here": "set on this unit",
  "mode.source.above": "as set by {unit}",
  "mode.source.default": "the default (never switched)",

  "form.submit": "Submit",
  "form.assignee": "Mediator",
  "form.noMediators": "No active mediator at the owning unit",
  "form.level": "Warning level",
  "form.reason": "Reason",
  "form.triggers": "Triggers (comma-separated)",
  "form.heldAt": "Held at (Beijing time)",
  "form.notes": "Notes",
  "form.attendees": "Attendees (comma-separated)",
  "form.agreement": "Agreement",
  "form.form": "Form",
  "form.written": "Written",
  "form.oral": "Oral",
  "form.amount": "Amount (yuan, optional)",
  "form.performanceDue": "Perform by (date, optional)",
  "form.satisfied": "Parties satisfied",
  "form.honoured": "Agreement honoured",
  "form.unknown": "Unknown",
  "form.yes": "Yes",
  "form.no": "No",
  "form.note": "Note",
  "form.text": "Note",
  "form.agency": "Refer to",
  "form.grade": "Rating",
  "form.channel": "Taken by",
  "form.comment": "What the party said (optional)",
  "form.until": "Extend to (Beijing time)",
  "form.deadlineKind": "Deadline",
  "form.answer": "Answer",
  "form.court": "Court",
  "form.reviewAt": "Review on (Beijing time, within 30 days)",
  "form.instruction": "What the owner must do",
  "form.answerDue": "Answer due (Beijing time)",
  "form.supervisionAnswer": "Answer (what was done, what comes next)",
  "form.required": "Required",
  "form.outcome": "Outcome",
  "form.reference": "Their case number",
  "form.referralAnswer": "Answer",
  "form.declineReason": "Why they declined",
  "form.referralConcluded": "What they did",
  "form.result": "Result",
  "form.reportBack": "Result reported back",
  "form.people": "People involved (corrected)",
  "form.amountInvolved": "Amount involved (yuan, corrected)",
  "form.policeCallouts": "Police call-outs (corrected)",
  "form.belowSuggestion": "Why below the suggested level",
  "form.suggestedNow": "The risk triggers suggest {level} ({triggers}); a lower level needs a reason.",

  "stats.title": "Statistics",
  "stats.from": "From",
  "stats.to": "To",
  "stats.bucket": "Per",
  "stats.week": "Week",
  "stats.month": "Month",
  "stats.apply": "Show",
  "stats.last30": "Last 30 days",
  "stats.last90": "Last 90 days",
  "stats.thisYear": "This year",
  "stats.loading": "Counting…",
  "stats.registered": "Registered",
  "stats.resolved": "Resolved",
  "stats.terminated": "Terminated",
  "stats.referred": "Referred",
  "stats.overdueOpen": "Open and overdue",
  "stats.medianHours": "Median time to resolve",
  "stats.hours": "{n} h",
  "stats.days": "{n} days",
  "stats.satisfaction": "Satisfaction",
  "stats.reopen": "Reopened",
  "stats.rates": "Key rates",
  "stats.resolutionRate": "Resolution rate",
  "stats.localRate": "Resolved locally",
  "stats.onTimeRate": "On time",
  "stats.escalationRate": "Escalation rate",
  "stats.countyShare": "County share",
  "stats.noData": "no data",
  "stats.series": "Registered over time, by level",
  "stats.byCategory": "By category",
  "stats.byChannel": "By channel",
  "stats.byKind": "By kind",
  "stats.others": "Others",
  "stats.children": "Units below",
  "stats.unit": "Unit",
  "stats.nothing": "Nothing registered in this period.",
  "stats.export": "Export audit trail",
  "stats.exportCsv": "Export audit trail (CSV)",
  "stats.exportJsonl": "JSON Lines",
  "stats.exporting": "Exporting…",
  "stats.exported": "Downloaded {name}",
  "stats.drill": "Statistics of this unit",
  "stats.up": "↑ Back to {name}",
  "stats.hint": "Hover over a shape to see its number.",

  "err.network": "The server cannot be reached. Check the connection and try again.",
  "err.401": "Your sign-in has expired. Please sign in again.",
  "err.403": "Not allowed: {detail}",
  "err.404": "Not found: {detail}",
  "err.notAllowed": "“{action}” is not allowed while the case is {status}.",
  "err.version": "Someone else changed the case (now version {version}). The page has been refreshed; check and try again.",
  "err.field": "“{field}”: {reason}",
  "err.input": "Invalid input: {detail}",
  "err.server": "The server failed ({status}). Try again later.",
  "err.generic": "Failed ({status}): {detail}",
  "err.server.detail": "Server says: {detail}",

  "action.sign": "Sign for",
  "action.assign": "Assign",
  "action.assess": "Assess",
  "action.mediation-sessions": "Record mediation",
  "action.resolve": "Resolve",
  "action.terminate": "Terminate mediation",
  "action.referrals": "Refer",
  "action.referral-answers": "Record referral answer",
  "action.referral-results": "Record the result",
  "action.report-back": "Report back",
  "action.judicial-confirmation": "Request judicial confirmation",
  "action.follow-ups": "Follow up",
  "action.ratings": "Rate",
  "action.rating-reviews": "Review the bad rating",
  "action.pause": "Pause",
  "action.resume": "Resume",
  "action.extend": "Extend a deadline",
  "action.escalate": "Escalate",
  "action.return": "Return to sender",
  "action.lower": "Lower the level",
  "action.reopen": "Reopen",
  "action.close": "Close",
  "action.reject": "Reject",
  "action.notes": "Add a note",
  "action.supervision-orders": "Order supervision",
  "action.supervision-answers": "Answer supervision",
  "action.take-over": "Take over",
  "action.attachments": "Attach a file",
  "nav.inspections": "Inspections",
  "inspections.title": "Inspection callbacks",
  "inspections.lead": "Each month a random sample of the cases each township closed the month before (the policy's share, at least its minimum) is called back by the county's or the city's inspectors; each draw is kept with its seed, so it can be checked.",
  "inspections.state": "State",
  "inspections.all": "All",
  "inspections.empty": "No sampled cases.",
  "inspections.case": "Case",
  "inspections.draw": "Draw",
  "inspections.due": "Callback due",
  "inspections.found": "Found",
  "inspections.satisfied": "satisfied",
  "inspections.dissatisfied": "dissatisfied",
  "inspections.unreached": "parties not reached",
  "inspections.rework": "sent back for rework",
  "case.inspection": "Inspection callback",
  "case.inspectionDraw": "Draw",
  "case.inspectionDue": "Callback due",
  "case.inspectionState": "State",
  "case.inspectionFound": "Found",
  "case.inspectionWho": "An inspector of the county or the city calls the parties back, once; a problem found sends the case back for rework.",
  "form.reached": "Parties reached",
  "form.remarks": "Remarks",
  "form.rework": "Send back for rework",
  "file.remarks": "Inspector's remarks",
  "action.inspections": "Record the inspection callback",
};

// Names of the API's codes, per language.
const names = {
  zh: {
    level: { red: "红色", orange: "橙色", yellow: "黄色" },
    levelShort: { red: "红", orange: "橙", yellow: "黄" },
    tier: { city: "市级", county: "县级", township: "乡镇级", village: "村级", grid: "网格" },
    tierGroup: { county: "县（市、区）", township: "乡镇（街道）", village: "村（社区）" },
    status: {
      registered: "待签收",
      signed: "已签收",
      in_mediation: "调解中",
      paused: "已中止",
      reopened: "重新办理",
      resolved: "已化解",
      terminated: "调解终止",
      referred: "已转办",
      followed_up: "已回访",
      closed: "已办结",
      rejected: "不予受理",
    },
    kind: { dispute: "矛盾纠纷", incident: "事件隐患" },
    channel: {
      grid_patrol: "网格员巡查",
      hotline: "服务热线",
      walk_in: "群众来访",
      police_110: "110联动",
      court: "法院委派",
      petition_office: "信访转交",
      online: "网上受理",
    },
    due: {
      sign: "签收",
      resolve: "化解",
      mediation: "调解",
      follow_up: "回访",
      judicial_reminder: "司法确认提醒",
      judicial_confirmation: "司法确认",
      status_report: "每日报告",
      supervision: "督办答复",
      pause_review: "中止复查",
      referral_answer: "转办答复",
      report_back: "反馈转办单位",
      performance: "履行",
      inspection: "督查回访",
      rating_review: "差评核实",
    },
    dueLabel: "{kind}期限",
    flag: {
      sign_overdue: "签收逾期",
      resolve_overdue: "化解逾期",
      supervised: "督办",
      supervision_overdue: "督办逾期",
      pause_review_due: "中止待复查",
      referral_pending: "转办待复",
      referral_overdue: "转办超期未复",
      report_back_overdue: "反馈逾期",
      performance_due: "履行期限已到",
      inspection_overdue: "督查回访逾期",
      rating_review: "差评待核实",
      rating_review_overdue: "差评核实逾期",
    },
    partyRole: { applicant: "申请人", respondent: "被申请人", third_party: "第三人" },
    role: {
      reporter: "信息员",
      mediator: "调解员",
      supervisor: "督办人员",
      auditor: "监督审计",
      admin: "系统管理员",
      inspector: "督查人员",
      citizen: "当事人",
      system: "系统",
    },
    agency: { court: "法院（诉调对接）", police: "公安（公调对接）", procuratorate: "检察院（检调对接）", petition_office: "信访部门（访调对接）" },
    grade: {
      very_satisfied: "非常满意",
      satisfied: "满意",
      basically_satisfied: "基本满意",
      dissatisfied: "不满意",
      very_dissatisfied: "非常不满意",
    },
    cause: { overdue: "化解逾期", level_raised: "预警等级提高", manual: "主管决定", cross_area: "跨区域", take_over: "提级办理", rating: "差评退回再办", inspection: "督查回访退回" },
    form: { written: "书面", oral: "口头" },
    ratingChannel: { citizen_link: "当事人手机评价", phone_callback: "电话回访", visit: "上门回访", hotline: "服务热线", walk_in: "群众来访", staff: "工作人员录入" },
    reviewDecision: { confirm: "属实，退回再办", dispute: "不属实" },
    ratingOccasion: { resolved: "化解后", closed: "办结后" },
    referralOutcome: { accepted: "已受理", declined: "不予受理", concluded: "已处理完毕" },
    // why a case has its level (``level_cause``); short marks for the board's cards
    levelCause: { registered: "登记时确定", triggers: "触发预警指标", assessed: "研判", raised: "提高等级", lowered: "降低等级", overdue: "逾期升级" },
    levelCauseMark: { triggers: "触发指标", assessed: "研判定级", raised: "已提级", lowered: "已降级", overdue: "逾期升级" },
    inspectionState: { pending: "待回访", overdue: "逾期未回访", done: "已按期回访", done_late: "逾期后回访" },
    attachmentKind: { photo: "照片", agreement: "协议", evidence: "证据", audio: "录音", other: "其他" },
    event: {
      Registered: "登记",
      Assessed: "研判定级",
      LevelRaised: "提高预警等级",
      LevelLowered: "降低预警等级",
      Signed: "签收",
      Assigned: "指派",
      Returned: "退回",
      MediationSessionRecorded: "调解",
      Resolved: "化解",
      Terminated: "调解终止",
      Referred: "转办",
      ReferralAnswered: "转办回复",
      JudicialConfirmationRequested: "申请司法确认",
      JudicialConfirmationRecorded: "司法确认结果",
      FollowUpRecorded: "回访",
      Rated: "评价",
      RatingInvited: "邀请评价",
      RatingReviewOpened: "差评核实",
      RatingReviewed: "差评核实结果",
      Paused: "中止",
      Resumed: "恢复办理",
      DeadlineExtended: "延期",
      ClocksRecomputed: "期限重算",
      Escalated: "上交",
      Reopened: "重新办理",
      Closed: "销号",
      Rejected: "不予受理",
      NoteAdded: "备注",
      Numbered: "编号",
      AttachmentAdded: "附件",
      ClockFired: "时限到期",
      SignOverdueFlagged: "签收逾期",
      ResolveOverdueFlagged: "化解逾期",
      SupervisionOrdered: "督办",
      SupervisionReminded: "督办逾期",
      SupervisionAnswered: "答复督办",
      ReferralDeclined: "转办被退回",
      ReferralResultReported: "转办处理结果",
      ReportedBack: "反馈转办来源",
      InspectionSampled: "督查抽查",
      InspectionRecorded: "督查回访",
      AccessRecorded: "查阅记录",
    },
    field: {
      assignee: "承办人",
      level: "预警等级",
      reason: "理由",
      triggers: "触发情形",
      held_at: "调解时间",
      notes: "调解情况",
      attendees: "参加人员",
      agreement: "协议内容",
      form: "协议形式",
      amount: "金额",
      performance_due: "履行期限",
      satisfied: "是否满意",
      agreement_honoured: "协议是否履行",
      note: "回访记录",
      text: "备注内容",
      agency: "转办单位",
      grade: "评价",
      until: "延长至",
      kind: "时限",
      answer: "回复内容",
      court: "受理法院",
      review_at: "复查日期",
      due_at: "答复期限",
      outcome: "答复结果",
      reference: "对方案号",
      result: "处理结果",
      people_involved: "涉及人数",
      amount_involved: "涉及金额",
      police_callouts: "110出警次数",
      below_suggestion_reason: "低于建议等级的理由",
      reached: "是否联系上当事人",
      remarks: "督查意见",
      rework: "退回重新办理",
      "report-back.result": "反馈的处理结果",
      "referral-answers.answer": "答复内容",
      "supervision-orders.text": "督办要求",
      "supervision-answers.answer": "答复内容",
      body: "请求内容",
      "If-Match": "版本",
      "Idempotency-Key": "请求标识",
    },
  },
  en: {
    level: { red: "Red", orange: "Orange", yellow: "Yellow" },
    levelShort: { red: "Red", orange: "Orange", yellow: "Yellow" },
    tier: { city: "City", county: "County", township: "Township", village: "Village", grid: "Grid" },
    tierGroup: { county: "County", township: "Township", village: "Village" },
    status: {
      registered: "Registered",
      signed: "Signed for",
      in_mediation: "In mediation",
      paused: "Paused",
      reopened: "Reopened",
      resolved: "Resolved",
      terminated: "Terminated",
      referred: "Referred",
      followed_up: "Followed up",
      closed: "Closed",
      rejected: "Rejected",
    },
    kind: { dispute: "Dispute", incident: "Incident" },
    channel: {
      grid_patrol: "Grid patrol",
      hotline: "Hotline",
      walk_in: "Walk-in",
      police_110: "Police 110",
      court: "Court referral",
      petition_office: "Petition office",
      online: "Online",
    },
    due: {
      sign: "Sign",
      resolve: "Resolve",
      mediation: "Mediation",
      follow_up: "Follow-up",
      judicial_reminder: "Judicial reminder",
      judicial_confirmation: "Judicial confirmation",
      status_report: "Status report",
      supervision: "Supervision answer",
      pause_review: "Pause review",
      referral_answer: "Referral answer",
      report_back: "Report back",
      performance: "Performance",
      inspection: "Inspection callback",
      rating_review: "Bad rating review",
    },
    dueLabel: "{kind} by",
    flag: {
      sign_overdue: "Sign overdue",
      resolve_overdue: "Resolve overdue",
      supervised: "Supervised",
      supervision_overdue: "Supervision overdue",
      pause_review_due: "Pause review due",
      referral_pending: "Awaiting referral answer",
      referral_overdue: "Referral answer overdue",
      report_back_overdue: "Report back overdue",
      performance_due: "Performance due",
      inspection_overdue: "Inspection overdue",
      rating_review: "Bad rating to review",
      rating_review_overdue: "Bad rating review overdue",
    },
    partyRole: { applicant: "Applicant", respondent: "Respondent", third_party: "Third party" },
    role: {
      reporter: "Reporter",
      mediator: "Mediator",
      supervisor: "Supervisor",
      auditor: "Auditor",
      admin: "Administrator",
      inspector: "Inspector",
      citizen: "Party",
      system: "System",
    },
    agency: { court: "Court", police: "Police", procuratorate: "Procuratorate", petition_office: "Petition office" },
    grade: {
      very_satisfied: "Very satisfied",
      satisfied: "Satisfied",
      basically_satisfied: "Basically satisfied",
      dissatisfied: "Dissatisfied",
      very_dissatisfied: "Very dissatisfied",
    },
    cause: { overdue: "overdue", level_raised: "level raised", manual: "supervisor's decision", cross_area: "across areas", take_over: "taken over", rating: "bad rating", inspection: "sent back by inspection" },
    form: { written: "written", oral: "oral" },
    ratingChannel: { citizen_link: "the party's own link", phone_callback: "phone callback", visit: "visit", hotline: "hotline", walk_in: "walk-in", staff: "staff" },
    reviewDecision: { confirm: "confirmed, back for rework", dispute: "disputed" },
    ratingOccasion: { resolved: "on resolution", closed: "on closing" },
    referralOutcome: { accepted: "accepted", declined: "declined", concluded: "dealt with" },
    levelCause: { registered: "as registered", triggers: "risk triggers", assessed: "assessed", raised: "raised", lowered: "lowered", overdue: "raised when overdue" },
    levelCauseMark: { triggers: "triggers", assessed: "assessed", raised: "raised", lowered: "lowered", overdue: "overdue" },
    inspectionState: { pending: "pending", overdue: "overdue", done: "done on time", done_late: "done late" },
    attachmentKind: { photo: "Photo", agreement: "Agreement", evidence: "Evidence", audio: "Audio", other: "Other" },
    event: {
      Registered: "Registered",
      Assessed: "Assessed",
      LevelRaised: "Level raised",
      LevelLowered: "Level lowered",
      Signed: "Signed for",
      Assigned: "Assigned",
      Returned: "Returned",
      MediationSessionRecorded: "Mediation session",
      Resolved: "Resolved",
      Terminated: "Mediation terminated",
      Referred: "Referred",
      ReferralAnswered: "Referral answered",
      JudicialConfirmationRequested: "Judicial confirmation requested",
      JudicialConfirmationRecorded: "Judicial confirmation recorded",
      FollowUpRecorded: "Follow-up",
      Rated: "Rated",
      RatingInvited: "Rating invited",
      RatingReviewOpened: "Bad rating under review",
      RatingReviewed: "Bad rating reviewed",
      Paused: "Paused",
      Resumed: "Resumed",
      DeadlineExtended: "Deadline extended",
      ClocksRecomputed: "Deadlines recomputed",
      Escalated: "Escalated",
      Reopened: "Reopened",
      Closed: "Closed",
      Rejected: "Rejected",
      NoteAdded: "Note",
      Numbered: "Numbered",
      AttachmentAdded: "Attachment",
      ClockFired: "Deadline came due",
      SignOverdueFlagged: "Sign-for overdue",
      ResolveOverdueFlagged: "Resolve overdue",
      SupervisionOrdered: "Supervision ordered",
      SupervisionReminded: "Supervision overdue",
      SupervisionAnswered: "Supervision answered",
      ReferralDeclined: "Referral declined",
      ReferralResultReported: "Referral result",
      ReportedBack: "Reported back",
      InspectionSampled: "Sampled for inspection",
      InspectionRecorded: "Inspection callback",
      AccessRecorded: "Access",
    },
    field: {},
  },
};

// Server details in English that have a Chinese reading.
const details = [
  [/already signed for/, "案件已签收"],
  [/(\S+) must sign for it first/, "须先由 $1 签收"],
  [/record a mediation session first/, "请先记录调解"],
  [/resume it first/, "请先恢复办理"],
  [/lowering a level needs a supervisor: use lower/, "降低等级须经督办人员批准"],
  [/the referral has not been answered yet/, "转办单位尚未回复"],
  [
    /the risk triggers suggest (\w+) \(([^)]*)\): say why the case is assessed lower/,
    (_, level, codes) =>
      `预警指标建议${name("level", level)}预警（${codes.split(/,\s*/).map(triggerWords).join("、")}），定级较低须说明理由`,
  ],
  [/Expected `str` of length >= 1/, "不能为空"],
  [/is required/, "必填"],
  [/must not contain NUL characters/, "含有不允许的字符"],
];

// Each timeline entry in words, from its fields (the history's and the case file's
// ``timeline``): {field} is the field's value in the reader's language. The server's Chinese
// line (projections/history.py) reads the same; tests/unit/test_event_dispatch.py checks that
// every event type has one in both languages.
const lines = {
  zh: {
    Registered: "登记{kind}（{category}），来源：{channel}，发生地：{unit}，{level}预警，责任单位：{owner}（{tier}），涉及 {people_involved} 人，当事人 {party_count} 人，涉及金额：{amount_involved}，发生时间：{occurred_at}，编号：{number}",
    Numbered: "编号：{number}",
    "Registered.triggers": "登记{kind}（{category}），来源：{channel}，发生地：{unit}，{level}预警，责任单位：{owner}（{tier}），涉及 {people_involved} 人，当事人 {party_count} 人，涉及金额：{amount_involved}，发生时间：{occurred_at}，编号：{number}；因触发预警指标（{risk_triggers}）定为{level}预警",
    Assessed: "研判：{level}预警；预警情形：{triggers}；理由：{reason}",
    "Assessed.below": "研判：{level}预警；预警情形：{triggers}；理由：{reason}；低于预警指标建议的{suggested_level}预警，理由：{below_suggestion_reason}",
    LevelRaised: "预警等级提高为{level}；理由：{reason}",
    LevelLowered: "预警等级降为{level}，责任单位：{owner}（{tier}）；理由：{reason}",
    Signed: "{owner} 签收",
    Assigned: "指派承办人：{assignee}",
    Returned: "由 {from_unit} 退回 {to_unit}（{to_tier}）；理由：{reason}",
    Escalated: "上交（{cause}）：由 {from_unit}（{from_tier}，{from_level}预警）至 {to_unit}（{to_tier}，{to_level}预警）；理由：{reason}",
    "Escalated.overdue": "上交（{cause}）：由 {from_unit}（{from_tier}，{from_level}预警）至 {to_unit}（{to_tier}，{to_level}预警）；化解期限 {missed_due_at} 已过",
    MediationSessionRecorded: "调解，时间：{held_at}，参加 {attendee_count} 人",
    Resolved: "化解：{form}协议，协议金额：{amount}，履行期限：{performance_due}",
    Terminated: "调解终止；理由：{reason}",
    Referred: "转办至{agency}；理由：{reason}",
    ReferralAnswered: "转办单位已答复",
    "ReferralAnswered.outcome": "转办单位答复：{outcome}；对方案号：{reference}",
    ReferralDeclined: "转办单位不予受理，退回重新办理；理由：{reason}",
    ReferralResultReported: "登记转办单位的处理结果",
    ReportedBack: "已向转办来源单位反馈处理结果",
    InspectionSampled: "督查抽查：{township} {month} 办结案件随机抽查选中本案，督查回访期限 {due_at}",
    InspectionRecorded: "督查回访（期限 {due_at}）：已联系当事人，当事人是否满意：{satisfied}，协议是否履行：{agreement_honoured}",
    "InspectionRecorded.rework": "督查回访（期限 {due_at}）：已联系当事人，当事人是否满意：{satisfied}，协议是否履行：{agreement_honoured}；退回重新办理",
    "InspectionRecorded.unreached": "督查回访（期限 {due_at}）：未能联系上当事人",
    "InspectionRecorded.unreached.rework": "督查回访（期限 {due_at}）：未能联系上当事人；退回重新办理",
    JudicialConfirmationRequested: "向{court}申请司法确认",
    JudicialConfirmationRecorded: "登记司法确认结果，是否确认：{confirmed}",
    FollowUpRecorded: "回访：当事人是否满意：{satisfied}，协议是否履行：{agreement_honoured}",
    Rated: "评价：{grade}",
    RatingInvited: "邀请 {invited} 位当事人评价（{occasion}），链接有效期至 {expires_at}",
    RatingReviewOpened: "差评核实：评价为{grade}，待主管核实",
    RatingReviewed: "差评核实：{decision}；理由：{reason}",
    Paused: "中止办理；理由：{reason}；复查日期：{review_at}",
    SupervisionOrdered: "{by_unit} 督办（第 {order} 号）：{instruction}；答复期限 {due_at}",
    SupervisionReminded: "第 {order} 号督办的答复期限 {due_at} 已过，再次督促",
    SupervisionAnswered: "答复第 {order} 号督办",
    Resumed: "恢复办理",
    DeadlineExtended: "{kind}期限延长至 {until}；理由：{reason}",
    ClocksRecomputed: "因节假日调整（{days}），期限重新计算",
    Reopened: "重新办理（{cause}）；理由：{reason}",
    "Reopened.rating": "重新办理（{cause}）：评价为{grade}",
    "Rated.channel": "评价：{grade}（{channel}）",
    Closed: "办结销号",
    Rejected: "不予受理；理由：{reason}",
    NoteAdded: "添加备注",
    AttachmentAdded: "添加附件：{kind}，{size}",
    ClockFired: "{kind}期限 {due_at} 到期",
    SignOverdueFlagged: "签收期限 {due_at} 已过，尚未签收",
    ResolveOverdueFlagged: "化解期限 {due_at} 已过，尚未化解",
  },
  en: {
    Registered: "Registered a {kind} ({category}) from {channel} at {unit}, {level} warning, owned by {owner} ({tier}); {people_involved} people involved, {party_count} parties, amount involved {amount_involved}, occurred {occurred_at}, number {number}",
    Numbered: "Numbered {number}",
    "Registered.triggers": "Registered a {kind} ({category}) from {channel} at {unit}, {level} warning, owned by {owner} ({tier}); {people_involved} people involved, {party_count} parties, amount involved {amount_involved}, occurred {occurred_at}, number {number}; {level} because risk triggers fired ({risk_triggers})",
    Assessed: "Assessed {level}; triggers: {triggers}; reason: {reason}",
    "Assessed.below": "Assessed {level}; triggers: {triggers}; reason: {reason}; below the {suggested_level} the risk triggers suggest, because: {below_suggestion_reason}",
    LevelRaised: "Level raised to {level}; reason: {reason}",
    LevelLowered: "Level lowered to {level}, owned by {owner} ({tier}); reason: {reason}",
    Signed: "Signed for by {owner}",
    Assigned: "Assigned to {assignee}",
    Returned: "Returned from {from_unit} to {to_unit} ({to_tier}); reason: {reason}",
    Escalated: "Escalated ({cause}) from {from_unit} ({from_tier}, {from_level}) to {to_unit} ({to_tier}, {to_level}); reason: {reason}",
    "Escalated.overdue": "Escalated ({cause}) from {from_unit} ({from_tier}, {from_level}) to {to_unit} ({to_tier}, {to_level}); resolve deadline {missed_due_at} missed",
    MediationSessionRecorded: "Mediation session held {held_at}, {attendee_count} attending",
    Resolved: "Resolved: {form} agreement, amount {amount}, performance due {performance_due}",
    Terminated: "Mediation terminated; reason: {reason}",
    Referred: "Referred to {agency}; reason: {reason}",
    ReferralAnswered: "The agency answered the referral",
    "ReferralAnswered.outcome": "The agency answered: {outcome}; its reference {reference}",
    ReferralDeclined: "The agency declined the referral: back to work; reason: {reason}",
    ReferralResultReported: "The agency's result recorded",
    ReportedBack: "Result reported back to the referring body",
    InspectionSampled: "Sampled for inspection in {township}'s draw of cases closed in {month}; callback due {due_at}",
    InspectionRecorded: "Inspection callback (due {due_at}): parties satisfied: {satisfied}; agreement honoured: {agreement_honoured}",
    "InspectionRecorded.rework": "Inspection callback (due {due_at}): parties satisfied: {satisfied}; agreement honoured: {agreement_honoured}; sent back for rework",
    "InspectionRecorded.unreached": "Inspection callback (due {due_at}): the parties could not be reached",
    "InspectionRecorded.unreached.rework": "Inspection callback (due {due_at}): the parties could not be reached; sent back for rework",
    JudicialConfirmationRequested: "Judicial confirmation requested at {court}",
    JudicialConfirmationRecorded: "Judicial confirmation recorded; confirmed: {confirmed}",
    FollowUpRecorded: "Followed up; parties satisfied: {satisfied}; agreement honoured: {agreement_honoured}",
    Rated: "Rated {grade}",
    RatingInvited: "{invited} parties invited to rate ({occasion}); links valid until {expires_at}",
    RatingReviewOpened: "Bad rating ({grade}) awaits a supervisor's review",
    RatingReviewed: "Bad rating reviewed: {decision}; reason: {reason}",
    Paused: "Paused; reason: {reason}; review on {review_at}",
    SupervisionOrdered: "Supervision order {order} from {by_unit}: {instruction}; answer due {due_at}",
    SupervisionReminded: "Supervision order {order}: answer due {due_at} missed, flagged again",
    SupervisionAnswered: "Supervision order {order} answered",
    Resumed: "Resumed",
    DeadlineExtended: "{kind} deadline extended to {until}; reason: {reason}",
    ClocksRecomputed: "Deadlines recomputed for a change of holidays ({days})",
    Reopened: "Reopened ({cause}); reason: {reason}",
    "Reopened.rating": "Reopened ({cause}): rated {grade}",
    "Rated.channel": "Rated {grade} ({channel})",
    Closed: "Closed",
    Rejected: "Rejected; reason: {reason}",
    NoteAdded: "Note added",
    AttachmentAdded: "Attachment added: {kind}, {size}",
    ClockFired: "{kind} deadline {due_at} came due",
    SignOverdueFlagged: "Sign-for deadline {due_at} missed",
    ResolveOverdueFlagged: "Resolve deadline {due_at} missed",
  },
};

const UNIT_FIELDS = new Set(["unit", "owner", "from_unit", "to_unit", "by_unit", "township"]);
const TIME_FIELDS = new Set(["occurred_at", "held_at", "until", "due_at", "missed_due_at", "review_at", "expires_at"]);
const AMOUNT_FIELDS = new Set(["amount", "amount_involved"]);
const IDENT_FIELDS = new Set(["assignee"]); // user ids: data, not words
const CODE_GROUPS = {
  level: "level",
  from_level: "level",
  to_level: "level",
  suggested_level: "level",
  tier: "tier",
  from_tier: "tier",
  to_tier: "tier",
  channel: "channel",
  cause: "cause",
  form: "form",
  agency: "agency",
  grade: "grade",
  outcome: "referralOutcome",
  decision: "reviewDecision",
  occasion: "ratingOccasion",
};
// A field whose codes mean something else in one event: a rating's channel is how it was taken.
const CODE_GROUPS_BY_TYPE = { Rated: { channel: "ratingChannel" } };
// ``kind`` is the case's kind, a clock's or an attachment's, by event type.
const KIND_GROUP = { Registered: "kind", DeadlineExtended: "due", ClockFired: "due", AttachmentAdded: "attachmentKind" };

// One timeline entry as HTML (escaped), in the reader's language; ``unitLabel`` names a unit
// code. An event type without a line reads as its label.
export function timelineHtml(type, fields, unitLabel = (code) => code) {
  let variant = type;
  if (type === "Registered" && fields.level_cause === "triggers") variant = "Registered.triggers";
  if (type === "Assessed" && fields.below_suggestion_reason) variant = "Assessed.below";
  if (type === "Escalated" && fields.missed_due_at) variant = "Escalated.overdue";
  if (type === "ReferralAnswered" && fields.outcome) variant = "ReferralAnswered.outcome";
  if (type === "Reopened" && fields.grade) variant = "Reopened.rating";
  if (type === "Rated" && fields.channel) variant = "Rated.channel";
  if (type === "InspectionRecorded") {
    variant = `InspectionRecorded${fields.reached ? "" : ".unreached"}${fields.rework ? ".rework" : ""}`;
  }
  const template = lines[lang()][variant] ?? lines.zh[variant];
  if (!template) return esc(name("event", type));
  return template
    .split(/(\{\w+\})/)
    .map((part) => {
      const field = /^\{(\w+)\}$/.exec(part)?.[1];
      if (!field) return esc(part);
      const text = esc(fieldText(type, field, fields[field], unitLabel));
      return IDENT_FIELDS.has(field) ? `<span class="ident">${text}</span>` : text;
    })
    .join("");
}

// A field's value in words: codes named, times in Shanghai (labelled), yes/no, "not given".
export function fieldText(type, field, value, unitLabel = (code) => code) {
  if (value === null || value === undefined || value === "") return t("value.missing");
  if (typeof value === "boolean") return t(value ? "value.yes" : "value.no");
  if (Array.isArray(value)) {
    const items = field === "risk_triggers" ? value.map(triggerWords) : value;
    return items.length ? items.join(lang() === "en" ? ", " : "、") : t("value.none");
  }
  if (TIME_FIELDS.has(field)) return formatZoned(value);
  if (AMOUNT_FIELDS.has(field)) return t("value.yuan", { v: value });
  if (field === "size") return formatSize(value);
  if (UNIT_FIELDS.has(field)) return unitLabel(value);
  const group = field === "kind" ? KIND_GROUP[type] : (CODE_GROUPS_BY_TYPE[type]?.[field] ?? CODE_GROUPS[field]);
  return group ? name(group, value) : String(value);
}

// A risk trigger's code (domain/risk.py) in words, as projections/history.py trigger_words
// says it: people_involved>=30 → 涉及30人以上, category=征地拆迁 → 征地拆迁类.
const TRIGGER = /^(people_involved|amount_involved|police_callouts)>=(\S+)$/;
const TRIGGER_WORDS = {
  zh: { people_involved: "涉及{n}人以上", amount_involved: "涉及金额{n}元以上", police_callouts: "110出警{n}次以上", category: "{n}类" },
  en: { people_involved: "{n}+ people involved", amount_involved: "amount {n} yuan or more", police_callouts: "{n}+ police call-outs", category: "category {n}" },
};
// Triggers that are words of their own: each raised the level one step.
const FLAT_TRIGGERS = {
  zh: { repeat: "重复纠纷（升一级）", key_person: "涉重点人员（升一级）" },
  en: { repeat: "repeat dispute (one step up)", key_person: "key person involved (one step up)" },
};

export function triggerWords(code) {
  const words = TRIGGER_WORDS[lang()];
  const text = String(code ?? "");
  const flat = FLAT_TRIGGERS[lang()][text];
  if (flat) return flat;
  if (text.startsWith("category=")) return words.category.replace("{n}", text.slice("category=".length));
  const found = TRIGGER.exec(text);
  return found ? words[found[1]].replace("{n}", found[2]) : text;
}

// Risk triggers in words, joined as the reader's language joins a list.
export function triggersText(codes) {
  return (codes || []).map(triggerWords).join(lang() === "en" ? ", " : "、");
}

export function formatSize(bytes) {
  if (bytes < 1024) return t("value.bytes", { n: bytes });
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const dictionaries = { zh, en };

export function lang() {
  const stored = localStorage.getItem(LANG_KEY);
  return stored === "en" ? "en" : "zh";
}

export function setLang(value) {
  localStorage.setItem(LANG_KEY, value === "en" ? "en" : "zh");
  document.documentElement.lang = value === "en" ? "en" : "zh-CN";
}

export function t(key, vars = {}) {
  const text = dictionaries[lang()][key] ?? zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

// name("status", "signed") → 已签收; unknown codes are shown as they are.
export function name(group, code) {
  if (code === null || code === undefined) return "";
  const table = names[lang()][group] || {};
  return table[code] ?? names.zh[group]?.[code] ?? (lang() === "en" ? String(code).replaceAll("_", " ") : String(code));
}

// A form field's name, as one command's form calls it where that differs (a 督办's ``text`` is
// its instruction, not a note).
export function fieldName(field, action = "") {
  const own = names[lang()].field?.[`${action}.${field}`] ?? names.zh.field[`${action}.${field}`];
  return own && lang() !== "en" ? own : name("field", field);
}

export function dueLabel(kind) {
  return names[lang()].dueLabel.replace("{kind}", name("due", kind));
}

// A server detail in the reader's language, where we know it.
export function translateDetail(text) {
  if (!text || lang() === "en") return text || "";
  for (const [pattern, replacement] of details) {
    if (pattern.test(text)) return text.replace(pattern, replacement);
  }
  return text;
}

const ZONE = "Asia/Shanghai";

// A time as read in China, with its zone said: 2026-12-01 18:30 北京时间 (Beijing time).
export function formatZoned(iso) {
  if (!iso) return "";
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return String(iso);
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: ZONE,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(when);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")} ${t("time.zone")}`;
}

export function formatTime(iso, withSeconds = false) {
  if (!iso) return "";
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return String(iso);
  const options = {
    timeZone: ZONE,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  };
  if (withSeconds) options.second = "2-digit";
  return new Intl.DateTimeFormat(lang() === "en" ? "en-CA" : "zh-CN", options).format(when);
}

export function formatClock(date) {
  return new Intl.DateTimeFormat(lang() === "en" ? "en-GB" : "zh-CN", {
    timeZone: ZONE,
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).format(date);
}

// 1 day 02:03:04, as a countdown reads.
export function formatSpan(seconds) {
  const total = Math.max(0, Math.floor(Math.abs(seconds)));
  const days = Math.floor(total / 86400);
  const rest = total % 86400;
  const hh = String(Math.floor(rest / 3600)).padStart(2, "0");
  const mm = String(Math.floor((rest % 3600) / 60)).padStart(2, "0");
  const ss = String(rest % 60).padStart(2, "0");
  const clock = `${hh}:${mm}:${ss}`;
  if (!days) return clock;
  return lang() === "en" ? `${days}d ${clock}` : `${days}天 ${clock}`;
}

export function formatPercent(value) {
  if (value === null || value === undefined) return "—";
  return `${(value * 100).toFixed(1).replace(/\.0$/, "")}%`;
}

// Money as people write it: yuan with two decimals (1,200.50), as the documents print it.
export function formatYuan(value) {
  if (value === null || value === undefined || value === "") return "—";
  const options = { minimumFractionDigits: 2, maximumFractionDigits: 2 };
  return new Intl.NumberFormat(lang() === "en" ? "en" : "zh-CN", options).format(Number(value));
}

export function formatNumber(value) {
  if (value === null || value === undefined) return "—";
  return new Intl.NumberFormat(lang() === "en" ? "en" : "zh-CN").format(value);
}

// Today's date in Shanghai as YYYY-MM-DD, shifted by ``days``.
export function shanghaiDate(days = 0, from = new Date()) {
  const shifted = new Date(from.getTime() + days * 86400000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit" }).format(shifted);
}

// Now in Shanghai as the value of an <input type="datetime-local">.
export function shanghaiLocalInput(from = new Date()) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: ZONE,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(from);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}T${get("hour")}:${get("minute")}`;
}

// The <input type="datetime-local"> value, read as Beijing time, as ISO 8601 with its offset.
export function localInputToIso(value) {
  if (!value) return "";
  const withSeconds = value.length === 16 ? `${value}:00` : value;
  return `${withSeconds}+08:00`;
}

// Escape text for innerHTML.
export function esc(value) {
  return String(value ?? "")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}
