import { ensureLogin } from "./utils/wechat";
import { showError } from "./utils/api";

App({
  onLaunch() {
    ensureLogin().catch(showError);
  },
});
