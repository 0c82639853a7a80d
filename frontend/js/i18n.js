// The page's own words in each language; lesson text comes from the server as {en, ko}. The choice is
// kept in this browser. Elements with data-i18n="key" are translated in place.
const WORDS = {
  en: {
    "nav.playground": "Playground",
    "nav.lessons": "Lessons",
    "tagline": "watch a real neural network learn",
    "theme.dark": "Dark theme",
    "theme.light": "Light theme",
    "projector": "Projector",
    "language": "한국어",
    "run.start": "Start",
    "run.pause": "Pause",
    "run.resume": "Resume",
    "run.stop": "Stop",
    "run.step": "Step",
    "run.steps": "steps",
    "run.lrNow": "Learning rate now",
    "run.apply": "Apply",
    "run.copyLink": "Copy link to these settings",
    "lessons.heading": "Lessons",
    "lessons.intro": "Each lesson runs a few matched experiments (same seed, same initial weights, same data; one setting changes) and checks what must hold on your own runs.",
    "lessons.runs": "runs",
    "groups.heading": "Groups submitted over the API",
    "viewer.note": "View only: this server needs its token to start runs. You follow the presenter's newest lesson run.",
    "viewer.token": "I have the token",
    "viewer.following": "following",
    "lesson.back": "All lessons",
    "lesson.run": "Run this lesson",
    "lesson.running": "Starting…",
    "lesson.lookAt": "What to look at",
    "lesson.mustHold": "What must hold",
    "lesson.previous": "Earlier runs of this lesson",
    "lesson.none": "Press Run: the charts fill as the runs train.",
    "verdict.heading": "Observation on your runs",
    "verdict.held": "Held",
    "verdict.failed": "Did not hold",
    "verdict.waiting": "Waiting for the runs",
    "verdict.figure": "figure",
    "verdict.value": "value",
    "verdict.never": "never reached",
    "compare.differs": "differs in",
    "panel.loss": "Training loss",
    "panel.loss_samples": "Loss against samples seen",
    "panel.val_loss": "Training and validation loss",
    "panel.layer_grads": "Gradient norm per layer",
    "panel.act_histograms": "Activation histograms",
    "panel.weight_histograms": "Weight histograms",
    "panel.dead": "Dead units",
    "panel.boundary": "Decision boundaries",
    "panel.collapse": "The identity net as one linear map",
    "panel.surface": "Loss surface and paths",
    "panel.race": "Optimizer race",
    "panel.gradcheck": "Gradient check",
    "panel.network": "Network",
    "panel.selection": "Selecting by test score",
    "panel.bn": "Batch norm: statistics and modes",
    "panel.variance": "Gradient variance",
    "panel.throughput": "Throughput",
    "panel.embedding": "Embedding of the last hidden layer",
    "axis.step": "step",
    "axis.samples": "samples seen",
    "axis.time": "seconds",
    "axis.layer": "layer",
    "axis.loss": "loss",
    "note.start": "dotted: at the start; solid: latest",
    "note.early": "early stop",
  },
  ko: {
    "nav.playground": "놀이터",
    "nav.lessons": "레슨",
    "tagline": "진짜 신경망이 학습하는 모습을 본다",
    "theme.dark": "어두운 테마",
    "theme.light": "밝은 테마",
    "projector": "프로젝터",
    "language": "English",
    "run.start": "시작",
    "run.pause": "일시 정지",
    "run.resume": "계속",
    "run.stop": "중지",
    "run.step": "스텝",
    "run.steps": "스텝",
    "run.lrNow": "지금 학습률",
    "run.apply": "적용",
    "run.copyLink": "이 설정의 링크 복사",
    "panel.playground.loss": "손실과 정확도",
    "panel.playground.boundary": "결정 경계",
    "panel.playground.network": "신경망",
    "panel.playground.layers": "층",
    "panel.playground.histograms": "히스토그램",
    "panel.playground.embedding": "마지막 은닉층의 임베딩",
    "panel.playground.system": "시스템",
    "panel.playground.runs": "실행 목록",
    "form.preset": "프리셋",
    "form.pickPreset": "— 프리셋 선택 —",
    "group.Data": "데이터",
    "group.Model": "모델",
    "group.Training": "학습",
    "field.data.dataset": "데이터셋",
    "field.data.noise": "잡음",
    "field.data.n_points": "점 개수",
    "field.data.val_fraction": "검증 비율",
    "field.model.hidden": "은닉층 너비",
    "field.model.activation": "활성화 함수",
    "field.model.bias": "편향",
    "field.model.batch_norm": "배치 정규화",
    "field.model.dropout": "드롭아웃",
    "field.optim.optimizer": "최적화 기법",
    "field.optim.lr": "학습률",
    "field.optim.weight_decay": "가중치 감쇠",
    "field.optim.batch_size": "배치 크기",
    "field.optim.steps": "스텝 수",
    "field.optim.eval_every": "검증 간격",
    "field.pace": "속도",
    "field.seed": "시드",
    "field.device": "장치",
    "lessons.heading": "레슨",
    "lessons.intro": "각 레슨은 짝지은 실험 몇 개(같은 시드, 같은 초기 가중치, 같은 데이터, 설정 하나만 다름)를 실행하고, 반드시 성립해야 할 관찰을 여러분의 실행에서 확인한다.",
    "lessons.runs": "실행",
    "groups.heading": "API로 제출한 그룹",
    "viewer.note": "보기 전용: 이 서버는 실행을 시작하려면 토큰이 필요하다. 발표자의 최신 레슨 실행을 따라간다.",
    "viewer.token": "토큰이 있다",
    "viewer.following": "따라가는 중:",
    "lesson.back": "모든 레슨",
    "lesson.run": "이 레슨 실행",
    "lesson.running": "시작하는 중…",
    "lesson.lookAt": "볼 것",
    "lesson.mustHold": "성립해야 할 것",
    "lesson.previous": "이 레슨의 이전 실행",
    "lesson.none": "실행을 누르면 학습하면서 차트가 채워진다.",
    "verdict.heading": "여러분의 실행에 대한 관찰",
    "verdict.held": "성립함",
    "verdict.failed": "성립하지 않음",
    "verdict.waiting": "실행을 기다리는 중",
    "verdict.figure": "수치",
    "verdict.value": "값",
    "verdict.never": "도달하지 못함",
    "compare.differs": "다른 설정",
    "panel.loss": "학습 손실",
    "panel.loss_samples": "본 샘플 수에 대한 손실",
    "panel.val_loss": "학습 손실과 검증 손실",
    "panel.layer_grads": "층별 기울기 노름",
    "panel.act_histograms": "활성값 히스토그램",
    "panel.weight_histograms": "가중치 히스토그램",
    "panel.dead": "죽은 유닛",
    "panel.boundary": "결정 경계",
    "panel.collapse": "하나의 선형 사상으로 합친 항등 신경망",
    "panel.surface": "손실 표면과 경로",
    "panel.race": "최적화 기법 경주",
    "panel.gradcheck": "기울기 검사",
    "panel.network": "신경망",
    "panel.selection": "테스트 점수로 고르기",
    "panel.bn": "배치 정규화: 통계와 모드",
    "panel.variance": "기울기 분산",
    "panel.throughput": "처리량",
    "panel.embedding": "마지막 은닉층의 임베딩",
    "axis.step": "스텝",
    "axis.samples": "본 샘플 수",
    "axis.time": "초",
    "axis.layer": "층",
    "axis.loss": "손실",
    "note.start": "점선: 시작 시점, 실선: 최신",
    "note.early": "조기 종료",
  },
};

const KEY = "trainscope-language";
const listeners = [];

export const language = () => (localStorage.getItem(KEY) === "ko" ? "ko" : "en");

export function t(key, fallback = key) {
  return WORDS[language()][key] ?? WORDS.en[key] ?? fallback;
}

// Lesson text from the server: {en, ko}
export const pick = (text) => (text ? text[language()] || text.en : "");

export function translatePage(root = document) {
  document.documentElement.lang = language();
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.dataset.i18nDefault ??= el.textContent; // the page's English words, for keys only Korean has
    el.textContent = t(el.dataset.i18n, el.dataset.i18nDefault);
  }
}

export function onLanguageChange(listener) {
  listeners.push(listener);
}

export function setLanguage(lang) {
  localStorage.setItem(KEY, lang);
  translatePage();
  for (const listener of listeners) listener(lang);
}

// The header button: shows the other language's name and switches to it.
export function mountLanguageToggle(button) {
  button.addEventListener("click", () => setLanguage(language() === "en" ? "ko" : "en"));
  translatePage();
}
